namespace Replicator.Binlog.Events;

/// <summary>An event whose type the reader does not interpret (INTVAR, USER_VAR, …). Kept, never an error.</summary>
public sealed record UnknownEvent(EventHeader Header, string File, ReadOnlyMemory<byte> Body) : BinlogEvent(Header, File);
