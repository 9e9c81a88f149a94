namespace Replicator.Binlog.Protocol;

/// <summary>
/// OK_Packet (header 0x00, or 0xFE where it replaces an EOF under CLIENT_DEPRECATE_EOF): affected
/// rows, last insert id, status flags and warnings; the session-state and info text that may
/// follow are not needed here.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html
/// </summary>
internal readonly record struct OkPacket(ulong AffectedRows, ulong LastInsertId, ServerStatusFlags Status, ushort Warnings)
{
    public const byte Header = 0x00;

    public static bool Is(ReadOnlySpan<byte> payload) => payload.Length >= 7 && payload[0] == Header;

    /// <summary>
    /// An EOF_Packet, or an OK_Packet standing in for one: 0xFE and shorter than a full packet
    /// (a result row that starts with 0xFE is a length of 16 MB or more, so it is never that short).
    /// </summary>
    public static bool IsEndOfData(ReadOnlySpan<byte> payload) =>
        payload.Length > 0 && payload[0] == 0xFE && payload.Length < PacketChannel.MaxChunkLength;

    public static OkPacket Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new ByteReader(payload);
        var header = reader.ReadByte();
        if (header is not (Header or 0xFE))
        {
            throw new FormatException($"Expected an OK packet (0x00 or 0xFE) but found 0x{header:X2}.");
        }

        var affected = reader.ReadLengthEncodedInteger();
        var lastInsertId = reader.ReadLengthEncodedInteger();
        var status = reader.Remaining >= 2 ? (ServerStatusFlags)reader.ReadUInt16() : ServerStatusFlags.None;
        var warnings = reader.Remaining >= 2 ? reader.ReadUInt16() : (ushort)0;
        return new OkPacket(affected, lastInsertId, status, warnings);
    }

    /// <summary>Reads an end-of-data marker: a classic EOF_Packet (0xFE, warnings, status) or, under CLIENT_DEPRECATE_EOF, an OK_Packet with header 0xFE.</summary>
    public static ServerStatusFlags ParseEndOfData(ReadOnlySpan<byte> payload, bool deprecateEof)
    {
        if (deprecateEof)
        {
            return Parse(payload).Status;
        }

        var reader = new ByteReader(payload);
        reader.Skip(1);
        if (reader.Remaining < 4)
        {
            return ServerStatusFlags.None;
        }

        reader.ReadUInt16();
        return (ServerStatusFlags)reader.ReadUInt16();
    }
}
