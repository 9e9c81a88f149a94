using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Replicator.Binlog.Protocol;

/// <summary>
/// A forward-only reader over a protocol payload or binlog event. Every read is bounds-checked and
/// a short payload throws a <see cref="FormatException"/> that says what was expected at which
/// offset. Integers are little-endian unless the method says otherwise, as the wire protocol is.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_dt_integers.html
/// </summary>
public ref struct ByteReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _offset;

    public ByteReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _offset = 0;
    }

    public readonly int Offset => _offset;

    public readonly int Remaining => _buffer.Length - _offset;

    public readonly bool IsAtEnd => _offset >= _buffer.Length;

    public readonly ReadOnlySpan<byte> RemainingSpan => _buffer[_offset..];

    public byte ReadByte()
    {
        Ensure(1, "a byte");
        return _buffer[_offset++];
    }

    public readonly byte PeekByte()
    {
        Ensure(1, "a byte");
        return _buffer[_offset];
    }

    public ushort ReadUInt16()
    {
        Ensure(2, "a 2-byte integer");
        var value = BinaryPrimitives.ReadUInt16LittleEndian(_buffer[_offset..]);
        _offset += 2;
        return value;
    }

    public uint ReadUInt24()
    {
        Ensure(3, "a 3-byte integer");
        var value = (uint)(_buffer[_offset] | (_buffer[_offset + 1] << 8) | (_buffer[_offset + 2] << 16));
        _offset += 3;
        return value;
    }

    public uint ReadUInt32()
    {
        Ensure(4, "a 4-byte integer");
        var value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[_offset..]);
        _offset += 4;
        return value;
    }

    public ulong ReadUInt48()
    {
        Ensure(6, "a 6-byte integer");
        var value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[_offset..])
            | ((ulong)BinaryPrimitives.ReadUInt16LittleEndian(_buffer[(_offset + 4)..]) << 32);
        _offset += 6;
        return value;
    }

    public ulong ReadUInt64()
    {
        Ensure(8, "an 8-byte integer");
        var value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[_offset..]);
        _offset += 8;
        return value;
    }

    /// <summary>An unsigned little-endian integer of 1 to 8 bytes.</summary>
    public ulong ReadUIntN(int bytes)
    {
        Ensure(bytes, "a {0}-byte integer");
        ulong value = 0;
        for (var i = bytes - 1; i >= 0; i--)
        {
            value = (value << 8) | _buffer[_offset + i];
        }

        _offset += bytes;
        return value;
    }

    /// <summary>An unsigned big-endian integer of 1 to 8 bytes (DECIMAL and temporal column encodings).</summary>
    public ulong ReadUIntNBigEndian(int bytes)
    {
        Ensure(bytes, "a {0}-byte big-endian integer");
        ulong value = 0;
        for (var i = 0; i < bytes; i++)
        {
            value = (value << 8) | _buffer[_offset + i];
        }

        _offset += bytes;
        return value;
    }

    /// <summary>A length-encoded integer (1, 3, 4 or 9 bytes). 0xFB (NULL in a result row) returns null.</summary>
    public ulong? ReadLengthEncodedIntegerOrNull()
    {
        var first = ReadByte();
        return first switch
        {
            < 0xFB => first,
            0xFB => null,
            0xFC => ReadUInt16(),
            0xFD => ReadUInt24(),
            0xFE => ReadUInt64(),
            _ => throw new FormatException($"Expected a length-encoded integer at offset {_offset - 1} but found 0xFF."),
        };
    }

    public ulong ReadLengthEncodedInteger() =>
        ReadLengthEncodedIntegerOrNull() ?? throw new FormatException($"Expected a length-encoded integer at offset {_offset - 1} but found NULL (0xFB).");

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
        {
            throw new FormatException($"Negative length {count} at offset {_offset}.");
        }

        Ensure(count, "{0} bytes");
        var span = _buffer.Slice(_offset, count);
        _offset += count;
        return span;
    }

    public ReadOnlySpan<byte> ReadLengthEncodedBytes() => ReadBytes(checked((int)ReadLengthEncodedInteger()));

    public ReadOnlySpan<byte> ReadNullTerminatedBytes()
    {
        var end = _buffer[_offset..].IndexOf((byte)0);
        if (end < 0)
        {
            throw new FormatException($"Expected a NUL-terminated string at offset {_offset} but found no NUL before the end ({Remaining} bytes).");
        }

        var span = _buffer.Slice(_offset, end);
        _offset += end + 1;
        return span;
    }

    public string ReadNullTerminatedString() => Encoding.UTF8.GetString(ReadNullTerminatedBytes());

    public string ReadFixedString(int length) => Encoding.UTF8.GetString(ReadBytes(length));

    public string ReadLengthEncodedString() => Encoding.UTF8.GetString(ReadLengthEncodedBytes());

    /// <summary>
    /// An unsigned integer in the MySQL serialization library's variable-length format (1 to 9
    /// bytes, little-endian): the number of trailing one bits of the first byte, plus one, is the
    /// byte count; the value follows those bits. Used by GTID_TAGGED_LOG_EVENT and tagged GTID sets.
    /// https://dev.mysql.com/doc/dev/mysql-server/latest/PageLibsMysqlSerialization.html
    /// </summary>
    public ulong ReadSerializedVarUInt64()
    {
        Ensure(1, "a variable-length integer");
        var first = _buffer[_offset];
        var count = System.Numerics.BitOperations.TrailingZeroCount(~(uint)first) + 1;
        Ensure(count, "a {0}-byte variable-length integer");
        if (count == 1)
        {
            _offset++;
            return (ulong)(first >> 1);
        }

        ulong rest = 0;
        for (var i = count - 1; i >= 1; i--)
        {
            rest = (rest << 8) | _buffer[_offset + i];
        }

        // With 2..8 bytes the value continues above the count bits of the first byte; with 9 the
        // first byte holds only the count and the next eight bytes hold the whole value.
        var value = count == 9 ? rest : (rest << (8 - count)) | (uint)(first >> count);
        _offset += count;
        return value;
    }

    /// <summary>A signed integer in the serialization library's zig-zag variable-length format.</summary>
    public long ReadSerializedVarInt64()
    {
        var raw = ReadSerializedVarUInt64();
        var magnitude = (long)(raw >> 1);
        return (raw & 1) == 0 ? magnitude : -magnitude - 1;
    }

    public ReadOnlySpan<byte> ReadToEnd()
    {
        var span = _buffer[_offset..];
        _offset = _buffer.Length;
        return span;
    }

    public void Skip(int count)
    {
        Ensure(count, "{0} bytes to skip");
        _offset += count;
    }

    /// <param name="what">What was expected, a constant; {0} stands for <paramref name="count"/> and is filled in only on failure, so the hot path allocates nothing.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Ensure(int count, string what)
    {
        if ((uint)count > (uint)(_buffer.Length - _offset))
        {
            Throw(count, what);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void Throw(int count, string what) =>
        throw new FormatException($"Expected {string.Format(System.Globalization.CultureInfo.InvariantCulture, what, count)} at offset {_offset} but only {_buffer.Length - _offset} of {count} bytes remain (payload is {_buffer.Length} bytes).");
}
