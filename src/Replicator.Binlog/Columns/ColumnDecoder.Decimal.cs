using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Columns;

internal static partial class ColumnDecoder
{
    // Bytes needed for 0..9 leftover decimal digits.
    private static readonly int[] DigitsToBytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

    private static readonly uint[] PowersOfTen = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

    /// <summary>
    /// NEWDECIMAL(precision, scale) as exact text. MySQL's binary decimal (strings/decimal.cc,
    /// <c>decimal2bin</c>; https://dev.mysql.com/doc/refman/8.4/en/precision-math-decimal-characteristics.html):
    /// the integer and fraction parts are stored separately, each as groups of nine digits in 4
    /// big-endian bytes, with the leftover digits of the integer part first and of the fraction part
    /// last in 1-4 bytes. The sign bit of the first byte is flipped (set means positive); a negative
    /// value has every byte inverted.
    /// </summary>
    public static string DecodeDecimal(ref ByteReader reader, int precision, int scale)
    {
        Span<byte> bytes = stackalloc byte[MaxDecimalBytes];
        bytes = bytes[..DecimalSize(precision, scale)];
        var negative = RestoreDecimalBytes(reader.ReadBytes(bytes.Length), bytes);
        return DecimalText(bytes, precision, scale, negative);
    }

    /// <summary>The largest precision whose values fit a <see cref="long"/> unscaled.</summary>
    public const int CompactDecimalPrecision = 18;

    /// <summary>
    /// A NEWDECIMAL of precision up to <see cref="CompactDecimalPrecision"/> as its unscaled value
    /// (<c>-123.45</c> with scale 2 is -12345), decoded without building text.
    /// </summary>
    public static long DecodeCompactDecimal(ref ByteReader reader, int precision, int scale)
    {
        Span<byte> bytes = stackalloc byte[MaxDecimalBytes];
        bytes = bytes[..DecimalSize(precision, scale)];
        var negative = RestoreDecimalBytes(reader.ReadBytes(bytes.Length), bytes);
        var integerDigits = precision - scale;
        var offset = 0;
        long value = 0;
        if (integerDigits % 9 > 0)
        {
            value = ReadGroup(bytes, ref offset, DigitsToBytes[integerDigits % 9], integerDigits % 9);
        }

        for (var i = 0; i < integerDigits / 9; i++)
        {
            value = (value * 1_000_000_000) + ReadGroup(bytes, ref offset, 4, 9);
        }

        for (var i = 0; i < scale / 9; i++)
        {
            value = (value * 1_000_000_000) + ReadGroup(bytes, ref offset, 4, 9);
        }

        if (scale % 9 > 0)
        {
            value = (value * PowersOfTen[scale % 9]) + ReadGroup(bytes, ref offset, DigitsToBytes[scale % 9], scale % 9);
        }

        return negative ? -value : value;
    }

    // DECIMAL(65,30): 35 integer digits in 4 + 3 * 4 bytes, 30 fraction digits in 3 * 4 + 2 bytes.
    private const int MaxDecimalBytes = 32;

    /// <summary>The bytes of a DECIMAL(precision, scale) cell.</summary>
    private static int DecimalSize(int precision, int scale)
    {
        if (precision is < 1 or > 65 || scale > 30 || scale > precision)
        {
            throw new FormatException($"DECIMAL({precision},{scale}) is not a valid precision and scale.");
        }

        var integerDigits = precision - scale;
        return ((integerDigits / 9) * 4) + DigitsToBytes[integerDigits % 9] + ((scale / 9) * 4) + DigitsToBytes[scale % 9];
    }

    /// <summary>Copies a cell with its sign bit restored and, for a negative value, every byte inverted back; returns whether it is negative.</summary>
    private static bool RestoreDecimalBytes(ReadOnlySpan<byte> cell, Span<byte> bytes)
    {
        cell.CopyTo(bytes);
        var negative = (bytes[0] & 0x80) == 0;
        bytes[0] ^= 0x80;
        if (negative)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)~bytes[i];
            }
        }

        return negative;
    }

    private static string DecimalText(ReadOnlySpan<byte> bytes, int precision, int scale, bool negative)
    {
        var integerDigits = precision - scale;
        var integerGroups = integerDigits / 9;
        var integerLeftover = integerDigits % 9;
        var fractionGroups = scale / 9;
        var fractionLeftover = scale % 9;

        // Sign, integer digits, point, fraction digits.
        Span<char> text = stackalloc char[precision + 3];
        var length = 1;
        var offset = 0;
        var allZero = true;

        if (integerLeftover > 0)
        {
            var group = ReadGroup(bytes, ref offset, DigitsToBytes[integerLeftover], integerLeftover);
            allZero &= group == 0;
            WriteDigits(text, ref length, group, integerLeftover);
        }

        for (var i = 0; i < integerGroups; i++)
        {
            var group = ReadGroup(bytes, ref offset, 4, 9);
            allZero &= group == 0;
            WriteDigits(text, ref length, group, 9);
        }

        // Drop the integer part's leading zeros, keeping one digit.
        var firstDigit = 1;
        while (firstDigit < length - 1 && text[firstDigit] == '0')
        {
            firstDigit++;
        }

        if (length == 1)
        {
            text[length++] = '0';
        }

        if (scale > 0)
        {
            text[length++] = '.';
            for (var i = 0; i < fractionGroups; i++)
            {
                var group = ReadGroup(bytes, ref offset, 4, 9);
                allZero &= group == 0;
                WriteDigits(text, ref length, group, 9);
            }

            if (fractionLeftover > 0)
            {
                var group = ReadGroup(bytes, ref offset, DigitsToBytes[fractionLeftover], fractionLeftover);
                allZero &= group == 0;
                WriteDigits(text, ref length, group, fractionLeftover);
            }
        }

        // A stored negative zero prints as zero.
        if (negative && !allZero)
        {
            text[--firstDigit] = '-';
        }

        return new string(text[firstDigit..length]);
    }

    private static uint ReadGroup(ReadOnlySpan<byte> bytes, ref int offset, int byteCount, int digits)
    {
        uint value = 0;
        for (var i = 0; i < byteCount; i++)
        {
            value = (value << 8) | bytes[offset + i];
        }

        offset += byteCount;
        if (value >= PowersOfTen[digits])
        {
            throw new FormatException($"A DECIMAL digit group holds {value}, more than {digits} digits.");
        }

        return value;
    }

    private static void WriteDigits(Span<char> text, ref int length, uint value, int digits)
    {
        for (var i = digits - 1; i >= 0; i--)
        {
            text[length + i] = (char)('0' + (value % 10));
            value /= 10;
        }

        length += digits;
    }
}
