namespace Replicator.Binlog.Events;

/// <summary>
/// QUERY_EVENT: a statement, in row-based logging <c>BEGIN</c>, <c>COMMIT</c> of non-transactional
/// tables, and DDL. https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Query__event.html
/// </summary>
public sealed record QueryEvent(
    EventHeader Header,
    string File,
    uint ThreadId,
    uint ExecutionTime,
    ushort ErrorCode,
    string Schema,
    string Sql) : BinlogEvent(Header, File)
{
    public bool IsBegin => Sql.Equals("BEGIN", StringComparison.OrdinalIgnoreCase);

    public bool IsCommit => Sql.Equals("COMMIT", StringComparison.OrdinalIgnoreCase);

    public bool IsRollback => Sql.Equals("ROLLBACK", StringComparison.OrdinalIgnoreCase);
}
