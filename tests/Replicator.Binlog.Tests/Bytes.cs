using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Replicator.Binlog.Tests;

/// <summary>Small helpers to spell protocol bytes in tests.</summary>
internal static class Bytes
{
    /// <summary>Hex digits, spaces ignored: "8C 22".</summary>
    public static byte[] Hex(string hex)
    {
        var digits = hex.Replace(" ", "", StringComparison.Ordinal);
        return Convert.FromHexString(digits);
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>One TABLE_MAP optional-metadata field: its type, its packed length, its value.</summary>
    public static byte[] MetadataField(byte type, byte[] value) => Concat([type], Packed((ulong)value.Length), value);

    public static byte[] U8(int value) => [(byte)value];

    public static byte[] U16(int value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        return b;
    }

    public static byte[] U24(int value) => [(byte)value, (byte)(value >> 8), (byte)(value >> 16)];

    public static byte[] U32(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return b;
    }

    public static byte[] U48(ulong value) => U64(value)[..6];

    public static byte[] U64(ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return b;
    }

    public static byte[] BigEndian(ulong value, int bytes)
    {
        var b = new byte[bytes];
        for (var i = bytes - 1; i >= 0; i--)
        {
            b[i] = (byte)value;
            value >>= 8;
        }

        return b;
    }

    /// <summary>A length-encoded ("packed") integer.</summary>
    public static byte[] Packed(ulong value) => value switch
    {
        < 251 => [(byte)value],
        < 0x10000 => Concat([0xFC], U16((int)value)),
        < 0x1000000 => Concat([0xFD], U24((int)value)),
        _ => Concat([0xFE], U64(value)),
    };

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A length-encoded string.</summary>
    public static byte[] PackedString(string text) => Concat(Packed((ulong)Encoding.UTF8.GetByteCount(text)), Utf8(text));

    /// <summary>An unsigned integer in the MySQL serialization library's variable-length format (encoder written from its readme).</summary>
    public static byte[] SerializedVar(ulong value)
    {
        var bits = 64 - ulong.LeadingZeroCount(value);
        var count = (int)((bits * 575) >> 12) + 1;
        var result = new byte[count];
        if (count == 9)
        {
            result[0] = 0xFF;
            BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(1), value);
            return result;
        }

        var shifted = (value << count) | ((1UL << (count - 1)) - 1);
        for (var i = 0; i < count; i++)
        {
            result[i] = (byte)(shifted >> (8 * i));
        }

        return result;
    }

    public static byte[] SerializedSigned(long value) =>
        SerializedVar(value >= 0 ? (ulong)value << 1 : ((ulong)(-(value + 1)) << 1) | 1);

    public static string ToHex(byte[] bytes) => string.Join(' ', bytes.Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));
}
