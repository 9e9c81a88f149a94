namespace Replicator.Binlog.Parsers;

/// <summary>Choices for <see cref="BinlogEventDecoder"/>.</summary>
public sealed record BinlogDecoderOptions
{
    public static BinlogDecoderOptions Default { get; } = new();

    /// <summary>Verify each event's CRC32 when the format description says the server writes one. Default on.</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// The most bytes one compressed event (a MariaDB compressed QUERY or rows event, a MySQL
    /// TRANSACTION_PAYLOAD) may inflate to. A larger declared size fails before anything is
    /// allocated; inflating allocates as the bytes come, never what the header only declares.
    /// </summary>
    public int MaxDecompressedSize { get; init; } = BinlogEventDecoder.MaxEventSize;

    /// <summary>
    /// Whether <see cref="BinlogFileReader"/> and the network client hand out a MySQL
    /// TRANSACTION_PAYLOAD (binlog_transaction_compression) as one
    /// <see cref="Events.TransactionPayloadPart"/> per inner event, inflated as they are read
    /// through a window bounded by the largest inner event, rather than as one
    /// <see cref="Events.TransactionPayloadEvent"/> that holds the whole transaction inflated and
    /// decoded. The parts carry the same inner events in the same order. Default off (tools that
    /// show a payload as one event); the capture turns it on.
    /// </summary>
    public bool StreamTransactionPayloads { get; init; }
}
