using Replicator.Binlog.Events;

namespace Replicator.Binlog.Network;

/// <summary>
/// One binlog event of a dump as it sits in the connection's read buffer: the common header, then
/// the body and, when the stream is checksummed, the CRC32. <paramref name="Data"/> is valid only
/// until the next read from the stream; copy it (or <see cref="RawBinlogEvent"/>) to keep it.
/// </summary>
/// <param name="File">The binlog file the event belongs to (for a ROTATE, the file it ends).</param>
internal readonly record struct StreamedEvent(EventHeader Header, ReadOnlyMemory<byte> Data, string File);
