namespace Replicator.Binlog.Events;

/// <summary>
/// HEARTBEAT_LOG_EVENT (and v2): the source is alive; <paramref name="LogFile"/> is its current file.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Heartbeat__event__v2.html
/// </summary>
public sealed record HeartbeatEvent(EventHeader Header, string File, string LogFile) : BinlogEvent(Header, File)
{
    /// <summary>
    /// The position in <see cref="LogFile"/> of the last event the source sent: the header's
    /// log_pos for a v1 heartbeat, the log-position field of a v2 heartbeat (MySQL 8.0.26+).
    /// </summary>
    public long LogPosition { get; init; }
}
