namespace Replicator.Binlog.Events;

/// <summary>STOP_EVENT: the server shut down; the next events are in a new file.</summary>
public sealed record StopEvent(EventHeader Header, string File) : BinlogEvent(Header, File);
