namespace Replicator.Binlog.Positions;

/// <summary>Where a binlog dump starts.</summary>
public abstract record StartPosition
{
    /// <summary>At the end of the server's binlog as it is when the dump starts (SHOW MASTER STATUS).</summary>
    public static StartPosition CurrentEnd { get; } = new AtEnd();

    /// <summary>At the oldest binlog file the server still holds (SHOW BINARY LOGS).</summary>
    public static StartPosition Oldest { get; } = new AtOldest();

    public static StartPosition At(BinlogPosition position) => new AtPosition(position);

    public static StartPosition At(string file, long position) => new AtPosition(new BinlogPosition(file, position));

    /// <summary>After the transactions of a MariaDB GTID position (COM_BINLOG_DUMP with slave_connect_state).</summary>
    public static StartPosition After(MariaDbGtidPosition gtids) => new AfterMariaDbGtids(gtids);

    /// <summary>After the transactions of a MySQL GTID set (COM_BINLOG_DUMP_GTID).</summary>
    public static StartPosition After(MySqlGtidSet gtids) => new AfterMySqlGtids(gtids);

    public sealed record AtEnd : StartPosition;

    public sealed record AtOldest : StartPosition;

    public sealed record AtPosition(BinlogPosition Position) : StartPosition;

    public sealed record AfterMariaDbGtids(MariaDbGtidPosition Gtids) : StartPosition;

    public sealed record AfterMySqlGtids(MySqlGtidSet Gtids) : StartPosition;
}
