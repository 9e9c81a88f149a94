namespace Replicator.Binlog.Events;

/// <summary>
/// MySQL GTID_LOG_EVENT, ANONYMOUS_GTID_LOG_EVENT and GTID_TAGGED_LOG_EVENT (8.4+): starts a transaction.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Gtid__event.html
/// </summary>
/// <param name="SourceId">The server UUID, <see cref="Guid.Empty"/> for an anonymous transaction.</param>
/// <param name="Tag">The GTID tag of a tagged GTID, else null.</param>
public sealed record MySqlGtidEvent(
    EventHeader Header,
    string File,
    Guid SourceId,
    long TransactionNumber,
    string? Tag,
    byte Flags,
    long LastCommitted,
    long SequenceNumber,
    ulong? OriginalCommitTimestamp,
    ulong? ImmediateCommitTimestamp) : BinlogEvent(Header, File)
{
    public bool IsAnonymous => Header.Type == BinlogEventType.AnonymousGtid;
}
