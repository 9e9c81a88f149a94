using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Vendors.MySql;

/// <summary>
/// Converts MySQL's binary JSON (the storage format of JSON columns, as rows events carry it) to
/// JSON text. Format: https://dev.mysql.com/doc/dev/mysql-server/latest/json__binary_8h.html
/// <code>
/// doc      ::= type value
/// object   ::= count size key-entry* value-entry* key* value*   (counts/offsets 2 bytes small, 4 large)
/// array    ::= count size value-entry* value*
/// key-entry   ::= key-offset key-length(2)
/// value-entry ::= type offset-or-inlined-value
/// string   ::= data-length(varlen, 7 bits a byte, low first) utf8mb4-data
/// opaque   ::= field-type(1) data-length(varlen) data
/// </code>
/// Offsets count from the first byte after the container's type byte. Literals and 16-bit integers
/// are always inlined in the value entry, 32-bit integers only in the large format.
/// </summary>
/// <remarks>
/// The text follows MySQL's own rendering (<c>Json_wrapper::to_string</c>) except that it is
/// compact (no blank after <c>,</c> and <c>:</c>): keys in stored order, doubles in shortest
/// round-trip form with <c>.0</c> added to integral values, DECIMAL as a plain number,
/// DATE/TIME/DATETIME/TIMESTAMP as quoted strings with six fractional digits, and other opaque
/// values as <c>"base64:type&lt;N&gt;:&lt;base64&gt;"</c>.
/// </remarks>
public static class MySqlJsonBinary
{
    private const int MaxDepth = 150;

    private const byte SmallObject = 0x00;
    private const byte LargeObject = 0x01;
    private const byte SmallArray = 0x02;
    private const byte LargeArray = 0x03;
    private const byte Literal = 0x04;
    private const byte Int16 = 0x05;
    private const byte UInt16 = 0x06;
    private const byte Int32 = 0x07;
    private const byte UInt32 = 0x08;
    private const byte Int64 = 0x09;
    private const byte UInt64 = 0x0A;
    private const byte Double = 0x0B;
    private const byte String = 0x0C;
    private const byte Opaque = 0x0F;

    /// <summary>The JSON text of a binary JSON document. An empty document is JSON null.</summary>
    public static string ToJson(ReadOnlySpan<byte> document)
    {
        if (document.IsEmpty)
        {
            return "null";
        }

        var writer = new ArrayBufferWriter<byte>(Math.Max(64, document.Length * 2));
        WriteValue(writer, document[0], document[1..], 0);
        return Encoding.UTF8.GetString(writer.WrittenSpan);
    }

    private static void WriteValue(ArrayBufferWriter<byte> writer, byte type, ReadOnlySpan<byte> data, int depth)
    {
        switch (type)
        {
            case SmallObject:
                WriteObject(writer, data, large: false, depth + 1);
                break;
            case LargeObject:
                WriteObject(writer, data, large: true, depth + 1);
                break;
            case SmallArray:
                WriteArray(writer, data, large: false, depth + 1);
                break;
            case LargeArray:
                WriteArray(writer, data, large: true, depth + 1);
                break;
            case Literal:
                WriteLiteral(writer, Need(data, 1)[0]);
                break;
            case Int16:
                WriteAscii(writer, BinaryPrimitives.ReadInt16LittleEndian(Need(data, 2)).ToString(CultureInfo.InvariantCulture));
                break;
            case UInt16:
                WriteAscii(writer, BinaryPrimitives.ReadUInt16LittleEndian(Need(data, 2)).ToString(CultureInfo.InvariantCulture));
                break;
            case Int32:
                WriteAscii(writer, BinaryPrimitives.ReadInt32LittleEndian(Need(data, 4)).ToString(CultureInfo.InvariantCulture));
                break;
            case UInt32:
                WriteAscii(writer, BinaryPrimitives.ReadUInt32LittleEndian(Need(data, 4)).ToString(CultureInfo.InvariantCulture));
                break;
            case Int64:
                WriteAscii(writer, BinaryPrimitives.ReadInt64LittleEndian(Need(data, 8)).ToString(CultureInfo.InvariantCulture));
                break;
            case UInt64:
                WriteAscii(writer, BinaryPrimitives.ReadUInt64LittleEndian(Need(data, 8)).ToString(CultureInfo.InvariantCulture));
                break;
            case Double:
                WriteAscii(writer, FormatDouble(BinaryPrimitives.ReadDoubleLittleEndian(Need(data, 8))));
                break;
            case String:
            {
                var length = ReadVarLength(data, out var lengthBytes);
                WriteQuoted(writer, Need(data[lengthBytes..], length)[..length]);
                break;
            }

            case Opaque:
                WriteOpaque(writer, data);
                break;
            default:
                throw new FormatException($"Binary JSON value type 0x{type:X2} is not known.");
        }
    }

    private static void WriteObject(ArrayBufferWriter<byte> writer, ReadOnlySpan<byte> data, bool large, int depth)
    {
        CheckDepth(depth);
        var offsetSize = large ? 4 : 2;
        var count = ReadOffset(data, 0, large);
        var size = ReadOffset(data, offsetSize, large);
        if (size > data.Length)
        {
            throw new FormatException($"A binary JSON object claims {size} bytes but only {data.Length} remain.");
        }

        data = data[..size];
        var keyEntrySize = offsetSize + 2;
        var valueEntrySize = 1 + offsetSize;
        var keyEntries = 2 * offsetSize;
        var valueEntries = keyEntries + (count * keyEntrySize);
        if ((long)valueEntries + ((long)count * valueEntrySize) > data.Length)
        {
            throw new FormatException($"A binary JSON object of {count} members does not fit its {size} bytes.");
        }

        Put(writer, (byte)'{');
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                Put(writer, (byte)',');
            }

            var keyEntry = keyEntries + (i * keyEntrySize);
            var keyOffset = ReadOffset(data, keyEntry, large);
            var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(data[(keyEntry + offsetSize)..]);
            if ((long)keyOffset + keyLength > data.Length)
            {
                throw new FormatException($"A binary JSON key at offset {keyOffset} runs past its object.");
            }

            WriteQuoted(writer, data.Slice(keyOffset, keyLength));
            Put(writer, (byte)':');
            WriteEntry(writer, data, valueEntries + (i * valueEntrySize), large, depth);
        }

        Put(writer, (byte)'}');
    }

    private static void WriteArray(ArrayBufferWriter<byte> writer, ReadOnlySpan<byte> data, bool large, int depth)
    {
        CheckDepth(depth);
        var offsetSize = large ? 4 : 2;
        var count = ReadOffset(data, 0, large);
        var size = ReadOffset(data, offsetSize, large);
        if (size > data.Length)
        {
            throw new FormatException($"A binary JSON array claims {size} bytes but only {data.Length} remain.");
        }

        data = data[..size];
        var valueEntrySize = 1 + offsetSize;
        var valueEntries = 2 * offsetSize;
        if ((long)valueEntries + ((long)count * valueEntrySize) > data.Length)
        {
            throw new FormatException($"A binary JSON array of {count} elements does not fit its {size} bytes.");
        }

        Put(writer, (byte)'[');
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                Put(writer, (byte)',');
            }

            WriteEntry(writer, data, valueEntries + (i * valueEntrySize), large, depth);
        }

        Put(writer, (byte)']');
    }

    private static void WriteEntry(ArrayBufferWriter<byte> writer, ReadOnlySpan<byte> container, int entry, bool large, int depth)
    {
        var type = container[entry];
        var inlined = type is Literal or Int16 or UInt16 || (large && type is Int32 or UInt32);
        if (inlined)
        {
            WriteValue(writer, type, container.Slice(entry + 1, large ? 4 : 2), depth);
            return;
        }

        var offset = ReadOffset(container, entry + 1, large);
        if (offset >= container.Length)
        {
            throw new FormatException($"A binary JSON value offset {offset} lies outside its {container.Length}-byte container.");
        }

        WriteValue(writer, type, container[offset..], depth);
    }

    private static void WriteOpaque(ArrayBufferWriter<byte> writer, ReadOnlySpan<byte> data)
    {
        var fieldType = (ColumnType)Need(data, 1)[0];
        var length = ReadVarLength(data[1..], out var lengthBytes);
        var value = Need(data[(1 + lengthBytes)..], length)[..length];
        switch (fieldType)
        {
            case ColumnType.NewDecimal:
            {
                // Precision, scale, then the binary decimal.
                Need(value, 2);
                var reader = new ByteReader(value[2..]);
                WriteAscii(writer, ColumnDecoder.DecodeDecimal(ref reader, value[0], value[1]));
                return;
            }

            case ColumnType.Date:
            case ColumnType.NewDate:
            case ColumnType.DateTime:
            case ColumnType.Timestamp:
            case ColumnType.DateTime2:
            case ColumnType.Timestamp2:
                WriteQuotedAscii(writer, FormatPackedDateTime(BinaryPrimitives.ReadInt64LittleEndian(Need(value, 8)), fieldType is ColumnType.Date or ColumnType.NewDate));
                return;
            case ColumnType.Time:
            case ColumnType.Time2:
                WriteQuotedAscii(writer, FormatPackedTime(BinaryPrimitives.ReadInt64LittleEndian(Need(value, 8))));
                return;
            case ColumnType.VarString:
                // MySQL prints strings kept as opaque VAR_STRING as plain strings.
                WriteQuoted(writer, value);
                return;
            default:
                WriteQuotedAscii(writer, string.Create(CultureInfo.InvariantCulture, $"base64:type{(int)fieldType}:{Convert.ToBase64String(value)}"));
                return;
        }
    }

    /// <summary>A DATETIME in MySQL's packed longlong: ((year*13+month)&lt;&lt;5|day)&lt;&lt;17 | hour&lt;&lt;12 | minute&lt;&lt;6 | second, shifted 24 bits over the microseconds.</summary>
    private static string FormatPackedDateTime(long packed, bool dateOnly)
    {
        var magnitude = Math.Abs(packed);
        var micro = magnitude & 0xFFFFFF;
        var integer = magnitude >> 24;
        var ymd = integer >> 17;
        var ym = ymd >> 5;
        var hms = integer & 0x1FFFF;
        var date = string.Create(CultureInfo.InvariantCulture, $"{ym / 13:D4}-{ym % 13:D2}-{ymd & 0x1F:D2}");
        return dateOnly
            ? date
            : string.Create(CultureInfo.InvariantCulture, $"{date} {hms >> 12:D2}:{(hms >> 6) & 0x3F:D2}:{hms & 0x3F:D2}.{micro:D6}");
    }

    /// <summary>A TIME in MySQL's packed longlong: (hour&lt;&lt;12 | minute&lt;&lt;6 | second)&lt;&lt;24 + microseconds, negated when negative.</summary>
    private static string FormatPackedTime(long packed)
    {
        var magnitude = Math.Abs(packed);
        var micro = magnitude & 0xFFFFFF;
        var hms = magnitude >> 24;
        return string.Create(CultureInfo.InvariantCulture, $"{(packed < 0 ? "-" : "")}{(hms >> 12) & 0x3FF:D2}:{(hms >> 6) & 0x3F:D2}:{hms & 0x3F:D2}.{micro:D6}");
    }

    /// <summary>Shortest round-trip text, with an exponent as MySQL writes it (1e100, 1.5e-7) and ".0" on integral values.</summary>
    internal static string FormatDouble(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            var exponent = text.AsSpan(e + 1);
            var negative = exponent.StartsWith("-");
            var digits = exponent.TrimStart("+-").TrimStart('0');
            return string.Concat(text.AsSpan(0, e), negative ? "e-" : "e", digits.IsEmpty ? "0" : digits);
        }

        return text.Contains('.', StringComparison.Ordinal) ? text : text + ".0";
    }

    private static void WriteLiteral(ArrayBufferWriter<byte> writer, byte literal)
    {
        var text = literal switch
        {
            0 => "null"u8,
            1 => "true"u8,
            2 => "false"u8,
            _ => throw new FormatException($"Binary JSON literal 0x{literal:X2} is not null, true or false."),
        };
        writer.Write(text);
    }

    /// <summary>A JSON string from UTF-8 bytes, escaped as MySQL escapes: quote, backslash and control characters.</summary>
    private static void WriteQuoted(ArrayBufferWriter<byte> writer, ReadOnlySpan<byte> utf8)
    {
        Put(writer, (byte)'"');
        var start = 0;
        for (var i = 0; i < utf8.Length; i++)
        {
            var b = utf8[i];
            if (b >= 0x20 && b != (byte)'"' && b != (byte)'\\')
            {
                continue;
            }

            writer.Write(utf8[start..i]);
            start = i + 1;
            switch (b)
            {
                case (byte)'"':
                    writer.Write("\\\""u8);
                    break;
                case (byte)'\\':
                    writer.Write("\\\\"u8);
                    break;
                case (byte)'\b':
                    writer.Write("\\b"u8);
                    break;
                case (byte)'\f':
                    writer.Write("\\f"u8);
                    break;
                case (byte)'\n':
                    writer.Write("\\n"u8);
                    break;
                case (byte)'\r':
                    writer.Write("\\r"u8);
                    break;
                case (byte)'\t':
                    writer.Write("\\t"u8);
                    break;
                default:
                    WriteAscii(writer, string.Create(CultureInfo.InvariantCulture, $"\\u{b:x4}"));
                    break;
            }
        }

        writer.Write(utf8[start..]);
        Put(writer, (byte)'"');
    }

    private static void WriteQuotedAscii(ArrayBufferWriter<byte> writer, string text)
    {
        Span<byte> buffer = text.Length <= 256 ? stackalloc byte[text.Length] : new byte[text.Length];
        var written = Encoding.UTF8.GetBytes(text, buffer);
        WriteQuoted(writer, buffer[..written]);
    }

    private static void WriteAscii(ArrayBufferWriter<byte> writer, string text)
    {
        var span = writer.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        writer.Advance(written);
    }

    private static void Put(ArrayBufferWriter<byte> writer, byte b)
    {
        writer.GetSpan(1)[0] = b;
        writer.Advance(1);
    }

    private static int ReadOffset(ReadOnlySpan<byte> data, int at, bool large)
    {
        if (large)
        {
            var value = BinaryPrimitives.ReadUInt32LittleEndian(Need(data[at..], 4));
            return value > int.MaxValue ? throw new FormatException($"A binary JSON offset of {value} is too large.") : (int)value;
        }

        return BinaryPrimitives.ReadUInt16LittleEndian(Need(data[at..], 2));
    }

    /// <summary>A length of 1-5 bytes, 7 bits each, least significant first, high bit set on all but the last.</summary>
    private static int ReadVarLength(ReadOnlySpan<byte> data, out int bytesRead)
    {
        long length = 0;
        for (var i = 0; i < 5; i++)
        {
            var b = Need(data[i..], 1)[0];
            length |= (long)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                bytesRead = i + 1;
                return length > int.MaxValue ? throw new FormatException($"A binary JSON length of {length} is too large.") : (int)length;
            }
        }

        throw new FormatException("A binary JSON length runs over 5 bytes.");
    }

    private static ReadOnlySpan<byte> Need(ReadOnlySpan<byte> data, int count) =>
        data.Length >= count ? data : throw new FormatException($"Binary JSON data ends early: {count} bytes needed, {data.Length} remain.");

    private static void CheckDepth(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException($"Binary JSON nests deeper than {MaxDepth} levels.");
        }
    }
}
