namespace Replicator.Binlog.Events;

/// <summary>
/// One inner event of a MySQL TRANSACTION_PAYLOAD, read on its own when
/// <see cref="Parsers.BinlogDecoderOptions.StreamTransactionPayloads"/> is on: the payload's
/// events come as a run of parts, in order, instead of one <see cref="TransactionPayloadEvent"/>
/// holding them all, so a transaction of any size is read through memory bounded by its largest
/// event. <see cref="BinlogEvent.Header"/> and <see cref="BinlogEvent.File"/> are the outer
/// event's (its position is where a reader restarts); <paramref name="Event"/> is the inner event.
/// </summary>
/// <param name="Index">The inner event's place in the payload, from 0.</param>
/// <param name="PayloadOffset">Where the inner event starts in the uncompressed payload.</param>
/// <param name="IsLast">Whether it is the payload's last event.</param>
public sealed record TransactionPayloadPart(
    EventHeader Header,
    string File,
    int CompressionType,
    long UncompressedSize,
    int Index,
    long PayloadOffset,
    bool IsLast,
    BinlogEvent Event) : BinlogEvent(Header, File);
