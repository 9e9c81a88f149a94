using System.Text;

namespace Replicator.Binlog.Protocol;

/// <summary>
/// ERR_Packet: 0xFF, error code (2), then with CLIENT_PROTOCOL_41 '#' and a 5-character SQL state,
/// then the message to the end of the payload.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html
/// </summary>
internal sealed record ErrorPacket(int Code, string SqlState, string Message)
{
    public const byte Header = 0xFF;

    public static bool Is(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == Header;

    public static ErrorPacket Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new ByteReader(payload);
        var header = reader.ReadByte();
        if (header != Header)
        {
            throw new FormatException($"Expected an ERR packet (0xFF) but found 0x{header:X2}.");
        }

        var code = reader.ReadUInt16();
        var state = "HY000";
        if (!reader.IsAtEnd && reader.PeekByte() == (byte)'#')
        {
            reader.Skip(1);
            state = Encoding.ASCII.GetString(reader.ReadBytes(Math.Min(5, reader.Remaining)));
        }

        return new ErrorPacket(code, state, Encoding.UTF8.GetString(reader.ReadToEnd()));
    }
}
