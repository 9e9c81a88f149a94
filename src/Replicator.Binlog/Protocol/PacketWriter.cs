using System.Buffers.Binary;
using System.Text;

namespace Replicator.Binlog.Protocol;

/// <summary>
/// Builds one packet payload (without the 4-byte packet header) in a growing buffer, with the
/// wire protocol's integer and string encodings.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_data_types.html
/// </summary>
internal sealed class PacketWriter
{
    private byte[] _buffer;
    private int _length;

    public PacketWriter(int capacity = 256)
    {
        _buffer = new byte[Math.Max(capacity, 16)];
    }

    public int Length => _length;

    public ReadOnlyMemory<byte> Payload => _buffer.AsMemory(0, _length);

    public PacketWriter WriteByte(byte value)
    {
        Reserve(1)[0] = value;
        return this;
    }

    public PacketWriter WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);
        return this;
    }

    public PacketWriter WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);
        return this;
    }

    public PacketWriter WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);
        return this;
    }

    /// <summary>A length-encoded integer: 1 byte below 251, else 0xFC + 2, 0xFD + 3 or 0xFE + 8 bytes.</summary>
    public PacketWriter WriteLengthEncodedInteger(ulong value)
    {
        switch (value)
        {
            case < 251:
                return WriteByte((byte)value);
            case <= 0xFFFF:
                WriteByte(0xFC);
                return WriteUInt16((ushort)value);
            case <= 0xFFFFFF:
                var span = Reserve(4);
                span[0] = 0xFD;
                span[1] = (byte)value;
                span[2] = (byte)(value >> 8);
                span[3] = (byte)(value >> 16);
                return this;
            default:
                WriteByte(0xFE);
                return WriteUInt64(value);
        }
    }

    public PacketWriter WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        return this;
    }

    public PacketWriter WriteZeros(int count)
    {
        Reserve(count).Clear();
        return this;
    }

    /// <summary>UTF-8 text without a terminator (string[EOF]).</summary>
    public PacketWriter WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        Encoding.UTF8.GetBytes(value, Reserve(count));
        return this;
    }

    /// <summary>UTF-8 text and a NUL byte (string[NUL]).</summary>
    public PacketWriter WriteNullTerminatedString(string value) => WriteString(value).WriteByte(0);

    public PacketWriter WriteLengthEncodedBytes(ReadOnlySpan<byte> bytes)
    {
        WriteLengthEncodedInteger((ulong)bytes.Length);
        return WriteBytes(bytes);
    }

    public PacketWriter WriteLengthEncodedString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteLengthEncodedInteger((ulong)count);
        Encoding.UTF8.GetBytes(value, Reserve(count));
        return this;
    }

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count)
        {
            var size = Math.Max(checked(_length + count), _buffer.Length * 2);
            Array.Resize(ref _buffer, size);
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
