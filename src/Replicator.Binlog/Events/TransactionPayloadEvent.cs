namespace Replicator.Binlog.Events;

/// <summary>
/// MySQL 8 TRANSACTION_PAYLOAD_EVENT (binlog_transaction_compression): a whole transaction's
/// events, zstd-compressed. <paramref name="Events"/> are the decoded inner events in order.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Transaction__payload__event.html
/// </summary>
public sealed record TransactionPayloadEvent(
    EventHeader Header,
    string File,
    int CompressionType,
    long UncompressedSize,
    IReadOnlyList<BinlogEvent> Events) : BinlogEvent(Header, File);
