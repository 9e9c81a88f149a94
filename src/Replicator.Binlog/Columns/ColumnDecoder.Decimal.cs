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
        if (precision is < 1 or > 65 || scale > 30 || scale > precision)
        {
            throw new FormatException($"DECIMAL({precision},{scale}) is not a valid precision and scale.");
        }

        var integerDigits = precision - scale;
        var integerGroups = integerDigits / 9;
        var integerLeftover = integerDigits % 9;
        var fractionGroups = scale / 9;
        var fractionLeftover = scale % 9;
        var size = (integerGroups * 4) + DigitsToBytes[integerLeftover] + (fractionGroups * 4) + DigitsToBytes[fractionLeftover];

        Span<byte> bytes = stackalloc byte[size];
        reader.ReadBytes(size).CopyTo(bytes);
        var negative = (bytes[0] & 0x80) == 0;
        bytes[0] ^= 0x80;
        if (negative)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)~bytes[i];
            }
        }

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
