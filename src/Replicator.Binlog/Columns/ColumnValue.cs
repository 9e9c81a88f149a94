using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Replicator.Binlog.Columns;

/// <summary>
/// One decoded cell of a row image. A small struct so that integers, floats and temporals are
/// carried without boxing; text, bytes and exact decimals hold a reference.
/// </summary>
/// <remarks>
/// Temporal values keep their fields packed in one <see cref="long"/> and are formatted only when
/// asked for, so zero dates and zero-in-date values (<c>2020-00-15</c>) survive exactly.
/// </remarks>
public readonly struct ColumnValue : IEquatable<ColumnValue>
{
    private readonly object? _ref;
    private readonly long _bits;
    private readonly ValueKind _kind;
    private readonly byte _scale;

    private ColumnValue(ValueKind kind, long bits, object? reference, byte scale = 0)
    {
        _kind = kind;
        _bits = bits;
        _ref = reference;
        _scale = scale;
    }

    public ValueKind Kind => _kind;

    /// <summary>Fractional-second digits of a temporal, or the width in bits of a BIT value.</summary>
    public int Scale => _scale;

    public bool IsNull => _kind == ValueKind.Null;

    public bool IsAbsent => _kind == ValueKind.Absent;

    /// <summary>True when the value holds no mutable object (no byte array), so that two row images may share it.</summary>
    internal bool IsShareable => _ref is null or string;

    public static ColumnValue Absent => default;

    public static ColumnValue Null { get; } = new(ValueKind.Null, 0, null);

    public static ColumnValue FromInt64(long value) => new(ValueKind.Int64, value, null);

    public static ColumnValue FromUInt64(ulong value) => new(ValueKind.UInt64, unchecked((long)value), null);

    public static ColumnValue FromFloat(float value) => new(ValueKind.Float, BitConverter.SingleToInt32Bits(value), null);

    public static ColumnValue FromDouble(double value) => new(ValueKind.Double, BitConverter.DoubleToInt64Bits(value), null);

    /// <summary>An exact decimal given as its text, e.g. <c>-0.0000000123450000987650000</c>.</summary>
    public static ColumnValue FromDecimal(string exactText) => new(ValueKind.Decimal, 0, exactText);

    /// <summary>
    /// An exact decimal of up to 18 digits as its unscaled value and scale (<c>-123.45</c> is
    /// -12345 with scale 2): no text is built until the value is written.
    /// </summary>
    public static ColumnValue FromDecimal(long unscaled, int scale) =>
        scale is >= 0 and <= 18 ? new(ValueKind.Decimal, unscaled, null, (byte)scale) : throw new ArgumentOutOfRangeException(nameof(scale), scale, "A compact decimal has a scale of 0 to 18.");

    public static ColumnValue FromYear(int year) => new(ValueKind.Year, year, null);

    public static ColumnValue FromDate(int year, int month, int day) =>
        new(ValueKind.Date, PackDateTime(year, month, day, 0, 0, 0, 0), null);

    public static ColumnValue FromDateTime(int year, int month, int day, int hour, int minute, int second, int microsecond, int fsp) =>
        new(ValueKind.DateTime, PackDateTime(year, month, day, hour, minute, second, microsecond), null, checked((byte)fsp));

    /// <summary>A TIMESTAMP: seconds since 1970-01-01 UTC and microseconds. Zero seconds is MySQL's zero timestamp.</summary>
    public static ColumnValue FromTimestamp(long unixSeconds, int microsecond, int fsp) =>
        new(ValueKind.Timestamp, (unixSeconds << 20) | (uint)microsecond, null, checked((byte)fsp));

    /// <summary>A TIME value as signed total microseconds (TIME spans -838:59:59 to 838:59:59).</summary>
    public static ColumnValue FromTime(long totalMicroseconds, int fsp) =>
        new(ValueKind.Time, totalMicroseconds, null, checked((byte)fsp));

    public static ColumnValue FromString(string value) => new(ValueKind.String, 0, value);

    public static ColumnValue FromBytes(byte[] value) => new(ValueKind.Bytes, 0, value);

    public static ColumnValue FromBit(ulong value, int bits) => new(ValueKind.Bit, unchecked((long)value), null, checked((byte)bits));

    /// <summary>An ENUM by its 1-based index (0 is the error value ''), with its name when known.</summary>
    public static ColumnValue FromEnum(int index, string? name) => new(ValueKind.Enum, index, name);

    /// <summary>A SET by its member bits, with the comma-separated member names when known.</summary>
    public static ColumnValue FromSet(ulong bits, string? names) => new(ValueKind.Set, unchecked((long)bits), names);

    public static ColumnValue FromJson(string jsonText) => new(ValueKind.Json, 0, jsonText);

    public static ColumnValue FromGeometry(byte[] wkb, uint srid) => new(ValueKind.Geometry, srid, wkb);

    public static ColumnValue FromJsonDiff(IReadOnlyList<JsonDiff> diffs) => new(ValueKind.JsonDiff, 0, diffs);

    public static ColumnValue FromVector(byte[] littleEndianFloats) => new(ValueKind.Vector, 0, littleEndianFloats);

    public long AsInt64() => _kind switch
    {
        ValueKind.Int64 or ValueKind.Year or ValueKind.Enum => _bits,
        ValueKind.UInt64 or ValueKind.Bit or ValueKind.Set => checked((long)(ulong)_bits),
        _ => throw WrongKind("an integer"),
    };

    public ulong AsUInt64() => _kind switch
    {
        ValueKind.UInt64 or ValueKind.Bit or ValueKind.Set => unchecked((ulong)_bits),
        ValueKind.Int64 or ValueKind.Year or ValueKind.Enum => checked((ulong)_bits),
        _ => throw WrongKind("an unsigned integer"),
    };

    public double AsDouble() => _kind switch
    {
        ValueKind.Double => BitConverter.Int64BitsToDouble(_bits),
        ValueKind.Float => BitConverter.Int32BitsToSingle((int)_bits),
        _ => throw WrongKind("a floating-point number"),
    };

    public float AsFloat() => _kind == ValueKind.Float ? BitConverter.Int32BitsToSingle((int)_bits) : throw WrongKind("a FLOAT");

    /// <summary>The text of a String, Decimal, Json value, or the name of an Enum/Set when known.</summary>
    public string? AsString() => _kind == ValueKind.Decimal && _ref is null ? ToString() : _ref as string;

    public byte[]? AsBytes() => _ref as byte[];

    public IReadOnlyList<JsonDiff>? AsJsonDiff() => _ref as IReadOnlyList<JsonDiff>;

    /// <summary>The SRID of a GEOMETRY value.</summary>
    public uint GeometrySrid => _kind == ValueKind.Geometry ? (uint)_bits : throw WrongKind("a GEOMETRY");

    public int Year => _kind == ValueKind.Year ? (int)_bits : (int)(_bits >> 46);

    public int Month => (int)((_bits >> 42) & 0xF);

    public int Day => (int)((_bits >> 37) & 0x1F);

    public int Hour => (int)((_bits >> 32) & 0x1F);

    public int Minute => (int)((_bits >> 26) & 0x3F);

    public int Second => (int)((_bits >> 20) & 0x3F);

    public int Microsecond => (int)(_bits & 0xFFFFF);

    /// <summary>Seconds since the Unix epoch of a TIMESTAMP.</summary>
    public long UnixSeconds => _kind == ValueKind.Timestamp ? _bits >> 20 : throw WrongKind("a TIMESTAMP");

    /// <summary>Signed total microseconds of a TIME.</summary>
    public long TotalMicroseconds => _kind == ValueKind.Time ? _bits : throw WrongKind("a TIME");

    /// <summary>True for DATE/DATETIME with a zero year, month or day, and for the zero TIMESTAMP.</summary>
    public bool IsZeroDate => _kind switch
    {
        ValueKind.Date or ValueKind.DateTime => Year == 0 || Month == 0 || Day == 0,
        ValueKind.Timestamp => _bits == 0,
        _ => false,
    };

    /// <summary>Writes the value in the event format of DESIGN.md. Absent values must be skipped by the caller.</summary>
    public void WriteJson(Utf8JsonWriter writer, ValueFormatOptions? options = null)
    {
        switch (_kind)
        {
            case ValueKind.Absent:
            case ValueKind.Null:
                writer.WriteNullValue();
                return;
            case ValueKind.Int64:
            case ValueKind.Year:
                writer.WriteNumberValue(_bits);
                return;
            case ValueKind.UInt64:
            case ValueKind.Bit:
                writer.WriteNumberValue(unchecked((ulong)_bits));
                return;
            case ValueKind.Float:
                writer.WriteNumberValue(BitConverter.Int32BitsToSingle((int)_bits));
                return;
            case ValueKind.Double:
                writer.WriteNumberValue(BitConverter.Int64BitsToDouble(_bits));
                return;
            case ValueKind.Enum when _ref is null:
                writer.WriteNumberValue(_bits);
                return;
            case ValueKind.Set when _ref is null:
                writer.WriteNumberValue(unchecked((ulong)_bits));
                return;
            case ValueKind.Json:
                writer.WriteRawValue((string)_ref!, skipInputValidation: true);
                return;
            case ValueKind.JsonDiff:
                writer.WriteStartArray();
                foreach (var diff in (IReadOnlyList<JsonDiff>)_ref!)
                {
                    writer.WriteStartObject();
                    writer.WriteString("op", diff.Operation switch
                    {
                        JsonDiffOperation.Replace => "replace",
                        JsonDiffOperation.Insert => "insert",
                        _ => "remove",
                    });
                    writer.WriteString("path", diff.Path);
                    if (diff.ValueJson is not null)
                    {
                        writer.WritePropertyName("value");
                        writer.WriteRawValue(diff.ValueJson, skipInputValidation: true);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                return;
            case ValueKind.Bytes:
            case ValueKind.Geometry:
            case ValueKind.Vector:
                writer.WriteBase64StringValue((byte[])_ref!);
                return;
            case ValueKind.Decimal when _ref is null:
            {
                Span<char> text = stackalloc char[MaxCompactDecimalLength];
                writer.WriteStringValue(text[..FormatCompactDecimal(text)]);
                return;
            }
        }

        if (IsZeroDate && (options?.ZeroDates ?? ZeroDateHandling.Literal) == ZeroDateHandling.Null)
        {
            writer.WriteNullValue();
            return;
        }

        if (_kind is ValueKind.Date or ValueKind.DateTime or ValueKind.Timestamp or ValueKind.Time)
        {
            Span<char> text = stackalloc char[MaxTemporalLength];
            writer.WriteStringValue(text[..FormatTemporal(text)]);
            return;
        }

        writer.WriteStringValue(ToString());
    }

    /// <summary>
    /// The value's text in the event format: what JSON shows without quotes. Stable across
    /// processes and versions, so it is also what pk hashing and sink keys are built from.
    /// </summary>
    public override string ToString() => _kind switch
    {
        ValueKind.Absent => "",
        ValueKind.Null => "",
        ValueKind.Int64 or ValueKind.Year => _bits.ToString(CultureInfo.InvariantCulture),
        ValueKind.UInt64 or ValueKind.Bit => unchecked((ulong)_bits).ToString(CultureInfo.InvariantCulture),
        ValueKind.Float => BitConverter.Int32BitsToSingle((int)_bits).ToString("R", CultureInfo.InvariantCulture),
        ValueKind.Double => BitConverter.Int64BitsToDouble(_bits).ToString("R", CultureInfo.InvariantCulture),
        ValueKind.Enum => (string?)_ref ?? _bits.ToString(CultureInfo.InvariantCulture),
        ValueKind.Set => (string?)_ref ?? unchecked((ulong)_bits).ToString(CultureInfo.InvariantCulture),
        ValueKind.Decimal when _ref is null => FormatCompactDecimal(),
        ValueKind.Decimal or ValueKind.String or ValueKind.Json => (string)_ref!,
        ValueKind.Bytes or ValueKind.Geometry or ValueKind.Vector => Convert.ToBase64String((byte[])_ref!),
        ValueKind.Date or ValueKind.DateTime or ValueKind.Timestamp or ValueKind.Time => FormatTemporal(),
        ValueKind.JsonDiff => FormatJsonDiff(),
        _ => "",
    };

    // Sign, 19 digits of a long, a point, and a leading "0" when the scale covers every digit.
    private const int MaxCompactDecimalLength = 24;

    private string FormatCompactDecimal()
    {
        Span<char> text = stackalloc char[MaxCompactDecimalLength];
        return new string(text[..FormatCompactDecimal(text)]);
    }

    /// <summary>Writes a compact decimal with exactly its scale's fraction digits; returns the length.</summary>
    private int FormatCompactDecimal(Span<char> text)
    {
        var magnitude = _bits < 0 ? (ulong)(-(_bits + 1)) + 1 : (ulong)_bits;
        Span<char> digits = stackalloc char[20];
        magnitude.TryFormat(digits, out var count, provider: CultureInfo.InvariantCulture);
        var length = 0;
        if (_bits < 0)
        {
            text[length++] = '-';
        }

        var integerDigits = count - _scale;
        if (integerDigits <= 0)
        {
            text[length++] = '0';
        }
        else
        {
            digits[..integerDigits].CopyTo(text[length..]);
            length += integerDigits;
        }

        if (_scale > 0)
        {
            text[length++] = '.';
            for (var i = integerDigits; i < 0; i++)
            {
                text[length++] = '0';
            }

            var fraction = digits[Math.Max(0, integerDigits)..count];
            fraction.CopyTo(text[length..]);
            length += fraction.Length;
        }

        return length;
    }

    // "-" + hours (up to 10 digits of a long's worth) or a 5-digit year, the rest, ".ffffff", "Z".
    private const int MaxTemporalLength = 40;

    private string FormatTemporal()
    {
        Span<char> text = stackalloc char[MaxTemporalLength];
        return new string(text[..FormatTemporal(text)]);
    }

    /// <summary>Writes a DATE, DATETIME, TIMESTAMP or TIME in the event format; returns the length.</summary>
    private int FormatTemporal(Span<char> text)
    {
        var length = 0;
        switch (_kind)
        {
            case ValueKind.Date:
                WriteDate(text, ref length, Year, Month, Day);
                return length;
            case ValueKind.DateTime:
                WriteDate(text, ref length, Year, Month, Day);
                text[length++] = 'T';
                WriteTimeOfDay(text, ref length, Hour, Minute, Second);
                WriteFraction(text, ref length, Microsecond, _scale);
                return length;
            case ValueKind.Timestamp:
            {
                var seconds = _bits >> 20;
                var micro = (int)(_bits & 0xFFFFF);
                if (seconds == 0 && micro == 0)
                {
                    // MySQL's zero TIMESTAMP: the literal text, not a UTC instant.
                    "0000-00-00T00:00:00".CopyTo(text);
                    length = 19;
                    WriteFraction(text, ref length, 0, _scale);
                    return length;
                }

                var utc = DateTime.UnixEpoch.AddSeconds(seconds);
                WriteDate(text, ref length, utc.Year, utc.Month, utc.Day);
                text[length++] = 'T';
                WriteTimeOfDay(text, ref length, utc.Hour, utc.Minute, utc.Second);
                WriteFraction(text, ref length, micro, _scale);
                text[length++] = 'Z';
                return length;
            }

            default:
            {
                var total = _bits;
                if (total < 0)
                {
                    text[length++] = '-';
                    total = -total;
                }

                var seconds = total / 1_000_000;
                WriteNumber(text, ref length, seconds / 3600, 2);
                text[length++] = ':';
                WriteNumber(text, ref length, seconds / 60 % 60, 2);
                text[length++] = ':';
                WriteNumber(text, ref length, seconds % 60, 2);
                WriteFraction(text, ref length, (int)(total % 1_000_000), _scale);
                return length;
            }
        }
    }

    private static void WriteDate(Span<char> text, ref int length, int year, int month, int day)
    {
        WriteNumber(text, ref length, year, 4);
        text[length++] = '-';
        WriteNumber(text, ref length, month, 2);
        text[length++] = '-';
        WriteNumber(text, ref length, day, 2);
    }

    private static void WriteTimeOfDay(Span<char> text, ref int length, int hour, int minute, int second)
    {
        WriteNumber(text, ref length, hour, 2);
        text[length++] = ':';
        WriteNumber(text, ref length, minute, 2);
        text[length++] = ':';
        WriteNumber(text, ref length, second, 2);
    }

    /// <summary>A non-negative number with at least <paramref name="width"/> digits, zero-padded.</summary>
    private static void WriteNumber(Span<char> text, ref int length, long value, int width)
    {
        Span<char> digits = stackalloc char[20];
        value.TryFormat(digits, out var written, provider: CultureInfo.InvariantCulture);
        for (var i = written; i < width; i++)
        {
            text[length++] = '0';
        }

        digits[..written].CopyTo(text[length..]);
        length += written;
    }

    /// <summary>The first <paramref name="fsp"/> digits of the microseconds after a point; nothing for fsp 0.</summary>
    private static void WriteFraction(Span<char> text, ref int length, int microsecond, int fsp)
    {
        if (fsp <= 0)
        {
            return;
        }

        text[length++] = '.';
        var value = microsecond;
        Span<char> digits = stackalloc char[6];
        for (var i = 5; i >= 0; i--)
        {
            digits[i] = (char)('0' + (value % 10));
            value /= 10;
        }

        digits[..Math.Min(fsp, 6)].CopyTo(text[length..]);
        length += Math.Min(fsp, 6);
    }

    private string FormatJsonDiff()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static long PackDateTime(int year, int month, int day, int hour, int minute, int second, int microsecond) =>
        ((long)year << 46) | ((long)month << 42) | ((long)day << 37) | ((long)hour << 32) |
        ((long)minute << 26) | ((long)second << 20) | (uint)microsecond;

    private InvalidOperationException WrongKind(string wanted) =>
        new($"The column value is {_kind}, not {wanted}.");

    public bool Equals(ColumnValue other)
    {
        if (_kind == ValueKind.Decimal && other._kind == ValueKind.Decimal && (_ref is null) != (other._ref is null))
        {
            // One decimal held compact, the other as text (after a round trip through text): same value, same text.
            return ToString() == other.ToString();
        }

        if (_kind != other._kind || _bits != other._bits || _scale != other._scale)
        {
            return false;
        }

        return (_ref, other._ref) switch
        {
            (null, null) => true,
            (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),
            (IReadOnlyList<JsonDiff> a, IReadOnlyList<JsonDiff> b) => a.SequenceEqual(b),
            var (a, b) => Equals(a, b),
        };
    }

    public override bool Equals(object? obj) => obj is ColumnValue other && Equals(other);

    public override int GetHashCode() => _kind == ValueKind.Decimal
        ? HashCode.Combine(_kind, ToString().GetHashCode(StringComparison.Ordinal))
        : HashCode.Combine(_kind, _bits, _ref is byte[] bytes ? bytes.Length : _ref?.GetHashCode() ?? 0);

    public static bool operator ==(ColumnValue left, ColumnValue right) => left.Equals(right);

    public static bool operator !=(ColumnValue left, ColumnValue right) => !left.Equals(right);
}
