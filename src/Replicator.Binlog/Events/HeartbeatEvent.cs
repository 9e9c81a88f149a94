namespace Replicator.Binlog.Events;

/// <summary>HEARTBEAT_LOG_EVENT (and v2): the master is alive; <paramref name="LogFile"/> is its current file.</summary>
public sealed record HeartbeatEvent(EventHeader Header, string File, string LogFile) : BinlogEvent(Header, File);
