using System.Text;
using System.Text.Json;
using Replicator.Binlog.Columns;

namespace Replicator.Binlog.Tests;

/// <summary>DECIMALs of up to 18 digits are held as an unscaled long and a scale, and written with exactly the column's scale.</summary>
public sealed class CompactDecimalTests
{
    [Theory]
    [InlineData(-12345L, 2, "-123.45")]
    [InlineData(5L, 3, "0.005")]
    [InlineData(-5L, 3, "-0.005")]
    [InlineData(0L, 2, "0.00")]
    [InlineData(0L, 0, "0")]
    [InlineData(123L, 0, "123")]
    [InlineData(-1000000000000000000L, 0, "-1000000000000000000")]
    [InlineData(999999999999999999L, 18, "0.999999999999999999")]
    [InlineData(-999999999999999999L, 9, "-999999999.999999999")]
    [InlineData(long.MinValue, 18, "-9.223372036854775808")]
    public void A_compact_decimal_prints_its_exact_text_with_the_columns_scale(long unscaled, int scale, string expected)
    {
        var value = ColumnValue.FromDecimal(unscaled, scale);
        Assert.Equal(ValueKind.Decimal, value.Kind);
        Assert.Equal(expected, value.ToString());
        Assert.Equal(expected, value.AsString());
        Assert.Equal(JsonSerializer.Serialize(expected), Json(value));
    }

    [Fact]
    public void A_compact_decimal_equals_the_same_value_held_as_text()
    {
        var compact = ColumnValue.FromDecimal(-12345, 2);
        var text = ColumnValue.FromDecimal("-123.45");
        Assert.Equal(text, compact);
        Assert.Equal(text.GetHashCode(), compact.GetHashCode());
        Assert.NotEqual(ColumnValue.FromDecimal("-123.450"), compact);
        Assert.NotEqual(ColumnValue.FromDecimal(-12345, 3), compact);
    }

    // DECIMAL(18,4) -12345678901234.5678: 14 integer digits (5 + 9), 4 fraction digits (2 bytes).
    [Fact]
    public void A_decimal_column_of_18_digits_decodes_compact_and_one_of_19_as_text()
    {
        var compact = ColumnDecoderTests.DecodeCell(ColumnType.NewDecimal, (18 << 8) | 4, Bytes.ToHex(Invert(Bytes.Concat(Bytes.BigEndian(12345 | 0x800000u, 3), Bytes.BigEndian(678901234, 4), Bytes.BigEndian(5678, 2)))));
        Assert.Equal("-12345678901234.5678", compact.ToString());

        // DECIMAL(19,0) 1234567890123456789: 1 + 9 + 9 digits.
        var wide = ColumnDecoderTests.DecodeCell(ColumnType.NewDecimal, 19 << 8, Bytes.ToHex(Bytes.Concat(Bytes.BigEndian(1 | 0x80u, 1), Bytes.BigEndian(234567890, 4), Bytes.BigEndian(123456789, 4))));
        Assert.Equal("1234567890123456789", wide.ToString());
    }

    private static byte[] Invert(byte[] bytes) => bytes.Select(b => (byte)~b).ToArray();

    private static string Json(ColumnValue value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            value.WriteJson(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
