namespace Replicator.Binlog.Events;

/// <summary>ROTATE_EVENT: the next events come from <paramref name="NextFile"/> at <paramref name="NextPosition"/>.</summary>
public sealed record RotateEvent(EventHeader Header, string File, string NextFile, long NextPosition) : BinlogEvent(Header, File);
