using Replicator.Binlog.Events;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Network;

/// <summary>
/// One binlog event as the server sent it: the 19-byte common header, the body and, when the
/// stream is checksummed, the CRC32. <paramref name="Data"/> belongs to this event alone.
/// </summary>
/// <param name="File">The binlog file the event belongs to (for a ROTATE, the file it ends).</param>
internal readonly record struct RawBinlogEvent(EventHeader Header, byte[] Data, string File)
{
    public BinlogEventType Type => Header.Type;

    /// <summary>Reads the common header: timestamp(4) type(1) server_id(4) event_size(4) log_pos(4) flags(2).</summary>
    public static EventHeader ReadHeader(ReadOnlySpan<byte> data)
    {
        var reader = new ByteReader(data);
        return new EventHeader(
            reader.ReadUInt32(),
            (BinlogEventType)reader.ReadByte(),
            reader.ReadUInt32(),
            reader.ReadUInt32(),
            reader.ReadUInt32(),
            reader.ReadUInt16());
    }
}
