using Replicator.Binlog.Columns;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Tests;

/// <summary>
/// One cell at a time: the bytes a rows event holds for a SQL value, and the value they decode to.
/// Each case names the SQL value it encodes. Metadata is the TABLE_MAP word (two-byte fields read
/// first byte high, VARCHAR little-endian).
/// </summary>
public sealed class ColumnDecoderTests
{
    internal static ColumnValue DecodeCell(
        ColumnType type,
        int metadata,
        string hex,
        bool unsigned = false,
        int collation = 0,
        IReadOnlyList<string>? names = null,
        bool isJson = false)
    {
        var definition = new ColumnDefinition("c", type, metadata, true, unsigned, collation, names, names, isJson);
        var layout = ColumnLayout.Create(type, metadata, definition);
        var bytes = Bytes.Hex(hex);
        var reader = new ByteReader(bytes);
        var value = ColumnDecoder.Decode(ref reader, layout);
        Assert.True(reader.IsAtEnd, $"{reader.Remaining} of {bytes.Length} bytes left undecoded");
        return value;
    }

    [Theory]
    [InlineData(ColumnType.Tiny, "80", false, "-128")]                 // TINYINT -128
    [InlineData(ColumnType.Tiny, "7F", false, "127")]                  // TINYINT 127
    [InlineData(ColumnType.Tiny, "FF", false, "-1")]                   // TINYINT -1
    [InlineData(ColumnType.Tiny, "FF", true, "255")]                   // TINYINT UNSIGNED 255
    [InlineData(ColumnType.Short, "0080", false, "-32768")]            // SMALLINT -32768
    [InlineData(ColumnType.Short, "FF7F", false, "32767")]             // SMALLINT 32767
    [InlineData(ColumnType.Short, "FFFF", true, "65535")]              // SMALLINT UNSIGNED 65535
    [InlineData(ColumnType.Int24, "000080", false, "-8388608")]        // MEDIUMINT -8388608
    [InlineData(ColumnType.Int24, "FFFF7F", false, "8388607")]         // MEDIUMINT 8388607
    [InlineData(ColumnType.Int24, "FFFFFF", false, "-1")]              // MEDIUMINT -1
    [InlineData(ColumnType.Int24, "FFFFFF", true, "16777215")]         // MEDIUMINT UNSIGNED 16777215
    [InlineData(ColumnType.Long, "00000080", false, "-2147483648")]    // INT -2147483648
    [InlineData(ColumnType.Long, "FFFFFF7F", false, "2147483647")]     // INT 2147483647
    [InlineData(ColumnType.Long, "FFFFFFFF", true, "4294967295")]      // INT UNSIGNED 4294967295
    [InlineData(ColumnType.Long, "00000000", false, "0")]              // INT 0
    [InlineData(ColumnType.LongLong, "0000000000000080", false, "-9223372036854775808")] // BIGINT min
    [InlineData(ColumnType.LongLong, "FFFFFFFFFFFFFF7F", false, "9223372036854775807")]  // BIGINT max
    [InlineData(ColumnType.LongLong, "FFFFFFFFFFFFFFFF", true, "18446744073709551615")]  // BIGINT UNSIGNED max
    public void Integers_decode_signed_and_unsigned_exactly(ColumnType type, string hex, bool unsigned, string expected)
    {
        var value = DecodeCell(type, 0, hex, unsigned);
        Assert.Equal(unsigned ? ValueKind.UInt64 : ValueKind.Int64, value.Kind);
        Assert.Equal(expected, value.ToString());
    }

    [Fact]
    public void Bigint_unsigned_max_keeps_every_bit()
    {
        // BIGINT UNSIGNED 18446744073709551615
        var value = DecodeCell(ColumnType.LongLong, 0, "FFFFFFFFFFFFFFFF", unsigned: true);
        Assert.Equal(ulong.MaxValue, value.AsUInt64());
    }

    [Theory]
    [InlineData("0000C03F", 1.5)]                       // FLOAT 1.5
    [InlineData("FFFF7F7F", 3.4028234663852886e38)]     // FLOAT max
    [InlineData("00000000", 0.0)]                       // FLOAT 0
    public void Float_decodes_as_float32(string hex, double expected)
    {
        var value = DecodeCell(ColumnType.Float, 4, hex);
        Assert.Equal(ValueKind.Float, value.Kind);
        Assert.Equal(expected, (double)value.AsFloat());
    }

    [Theory]
    [InlineData("9A9999999999B9BF", -0.1)]              // DOUBLE -0.1
    [InlineData("000000000000F07F", double.PositiveInfinity)] // not storable by MySQL, but the bits decode
    [InlineData("FFFFFFFFFFFFEF7F", double.MaxValue)]   // DOUBLE max
    public void Double_decodes_as_float64(string hex, double expected)
    {
        var value = DecodeCell(ColumnType.Double, 8, hex);
        Assert.Equal(expected, value.AsDouble());
    }

    [Theory]
    [InlineData(4, 2, "8C22", "12.34")]                 // DECIMAL(4,2) 12.34
    [InlineData(4, 2, "73DD", "-12.34")]                // DECIMAL(4,2) -12.34
    [InlineData(10, 4, "8000000001", "0.0001")]         // DECIMAL(10,4) 0.0001: leading zeros of the fraction
    [InlineData(10, 4, "7FFFFFEC77", "-0.5000")]        // DECIMAL(10,4) -0.5
    [InlineData(10, 4, "8000000000", "0.0000")]         // DECIMAL(10,4) 0
    [InlineData(5, 0, "80000B", "11")]                  // DECIMAL(5,0) 11
    [InlineData(5, 0, "7FFFF4", "-11")]                 // DECIMAL(5,0) -11
    [InlineData(3, 3, "83E7", "0.999")]               // DECIMAL(3,3) 0.999: no integer digits
    [InlineData(
        65,
        30,
        "85F5E0FF 3B9AC9FF 3B9AC9FF 3B9AC9FF 3B9AC9FF 3B9AC9FF 3B9AC9FF 03E7",
        "99999999999999999999999999999999999.999999999999999999999999999999")] // DECIMAL(65,30) max
    [InlineData(
        65,
        30,
        "7A0A1F00 C4653600 C4653600 C4653600 C4653600 C4653600 C4653600 FC18",
        "-99999999999999999999999999999999999.999999999999999999999999999999")] // DECIMAL(65,30) min
    [InlineData(
        65,
        30,
        "80000000 00000000 00000000 00000001 00000000 00000000 00000000 0001",
        "1.000000000000000000000000000001")]           // DECIMAL(65,30) 1 + 1e-30
    public void Decimal_decodes_to_exact_text(int precision, int scale, string hex, string expected)
    {
        var value = DecodeCell(ColumnType.NewDecimal, (precision << 8) | scale, hex);
        Assert.Equal(ValueKind.Decimal, value.Kind);
        Assert.Equal(expected, value.AsString());
    }

    [Fact]
    public void Decimal_65_30_decodes_exactly()
    {
        // DECIMAL(65,30) 12345678901234567890123456789012345.678901234567890123456789012345
        var hex = Bytes.ToHex(Bytes.Concat(
            Bytes.BigEndian(12345678 | 0x80000000u, 4),
            Bytes.BigEndian(901234567, 4),
            Bytes.BigEndian(890123456, 4),
            Bytes.BigEndian(789012345, 4),
            Bytes.BigEndian(678901234, 4),
            Bytes.BigEndian(567890123, 4),
            Bytes.BigEndian(456789012, 4),
            Bytes.BigEndian(345, 2)));
        var value = DecodeCell(ColumnType.NewDecimal, (65 << 8) | 30, hex);
        Assert.Equal("12345678901234567890123456789012345.678901234567890123456789012345", value.AsString());
    }

    [Fact]
    public void Decimal_with_a_digit_group_over_nine_digits_is_rejected()
    {
        // DECIMAL(9,0) whose only group holds 1,000,000,000: no server writes it
        var error = Assert.Throws<FormatException>(() => DecodeCell(ColumnType.NewDecimal, (9 << 8) | 0, "BB9ACA00"));
        Assert.Contains("digit group", error.Message);
    }

    [Fact]
    public void Old_decimal_type_0_is_refused_with_a_clear_error()
    {
        var error = Assert.Throws<FormatException>(() => DecodeCell(ColumnType.Decimal, 0, "00"));
        Assert.Contains("DECIMAL (0", error.Message);
    }

    [Theory]
    [InlineData("00", 0)]     // YEAR 0000
    [InlineData("01", 1901)]  // YEAR 1901
    [InlineData("FF", 2155)]  // YEAR 2155
    [InlineData("7D", 2025)]  // YEAR 2025
    public void Year_decodes_from_one_byte(string hex, int expected)
    {
        var value = DecodeCell(ColumnType.Year, 0, hex);
        Assert.Equal(ValueKind.Year, value.Kind);
        Assert.Equal(expected, value.Year);
    }

    [Theory]
    [InlineData("000000", "0000-00-00")]   // DATE '0000-00-00' (zero date)
    [InlineData("0FC80F", "2020-00-15")]   // DATE '2020-00-15' (zero in date)
    [InlineData("9F1F4E", "9999-12-31")]   // DATE '9999-12-31'
    [InlineData("21D007", "1000-01-01")]   // DATE '1000-01-01'
    public void Date_keeps_zero_dates_exact(string hex, string expected)
    {
        var value = DecodeCell(ColumnType.Date, 0, hex);
        Assert.Equal(ValueKind.Date, value.Kind);
        Assert.Equal(expected, value.ToString());
    }

    [Theory]
    [InlineData(0, "800000", "00:00:00")]                 // TIME '00:00:00'
    [InlineData(0, "B46EFB", "838:59:59")]                // TIME '838:59:59' (max)
    [InlineData(0, "4B9105", "-838:59:59")]               // TIME '-838:59:59' (min)
    [InlineData(0, "7FFFFF", "-00:00:01")]                // TIME '-00:00:01'
    [InlineData(0, "864000", "100:00:00")]                // TIME '100:00:00' (over 24 hours)
    [InlineData(2, "80C8B84E", "12:34:56.78")]            // TIME(2) '12:34:56.78'
    [InlineData(2, "7FFFFFFF", "-00:00:00.01")]           // TIME(2) '-00:00:00.01'
    [InlineData(2, "7FFFFEF6", "-00:00:01.10")]           // TIME(2) '-00:00:01.10'
    [InlineData(1, "80C8B850", "12:34:56.8")]             // TIME(1) '12:34:56.8'
    [InlineData(4, "80C8B81ED3", "12:34:56.7891")]        // TIME(4) '12:34:56.7891'
    [InlineData(4, "7F3747E12D", "-12:34:56.7891")]       // TIME(4) '-12:34:56.7891'
    [InlineData(6, "80C8B80C0A14", "12:34:56.789012")]    // TIME(6) '12:34:56.789012'
    [InlineData(6, "7F3747F3F5EC", "-12:34:56.789012")]   // TIME(6) '-12:34:56.789012'
    public void Time2_decodes_negative_and_fractional_values(int fsp, string hex, string expected)
    {
        var value = DecodeCell(ColumnType.Time2, fsp, hex);
        Assert.Equal(ValueKind.Time, value.Kind);
        Assert.Equal(expected, value.ToString());
    }

    [Theory]
    [InlineData(0, "8000000000", "0000-00-00T00:00:00")]               // DATETIME '0000-00-00 00:00:00'
    [InlineData(0, "99A5000000", "2020-00-00T00:00:00")]               // DATETIME '2020-00-00 00:00:00' (zero in date)
    [InlineData(0, "99A5443105", "2020-01-02T03:04:05")]               // DATETIME '2020-01-02 03:04:05'
    [InlineData(0, "FEF3FF7EFB", "9999-12-31T23:59:59")]               // DATETIME '9999-12-31 23:59:59'
    [InlineData(3, "99A54431050D7A", "2020-01-02T03:04:05.345")]       // DATETIME(3) '2020-01-02 03:04:05.345'
    [InlineData(6, "99A5443105000001", "2020-01-02T03:04:05.000001")]  // DATETIME(6) '2020-01-02 03:04:05.000001'
    [InlineData(1, "99A544310532", "2020-01-02T03:04:05.5")]           // DATETIME(1) '2020-01-02 03:04:05.5'
    public void Datetime2_decodes_with_its_fractional_digits(int fsp, string hex, string expected)
    {
        var value = DecodeCell(ColumnType.DateTime2, fsp, hex);
        Assert.Equal(ValueKind.DateTime, value.Kind);
        Assert.Equal(expected, value.ToString());
    }

    [Theory]
    [InlineData(0, "00000000", "0000-00-00T00:00:00")]                 // TIMESTAMP '0000-00-00 00:00:00'
    [InlineData(0, "7FFFFFFF", "2038-01-19T03:14:07Z")]                // TIMESTAMP max
    [InlineData(0, "00000001", "1970-01-01T00:00:01Z")]                // TIMESTAMP '1970-01-01 00:00:01' UTC
    [InlineData(3, "1DAF97DF1626", "1985-10-13T10:22:23.567Z")]        // TIMESTAMP(3) '1985-10-13 10:22:23.567' UTC
    [InlineData(6, "7FFFFFFF0F423F", "2038-01-19T03:14:07.999999Z")]   // TIMESTAMP(6) max
    public void Timestamp2_decodes_in_utc(int fsp, string hex, string expected)
    {
        var value = DecodeCell(ColumnType.Timestamp2, fsp, hex);
        Assert.Equal(ValueKind.Timestamp, value.Kind);
        Assert.Equal(expected, value.ToString());
    }

    [Theory]
    [InlineData(ColumnType.Timestamp, "FFFFFF7F", "2038-01-19T03:14:07Z")]  // old TIMESTAMP max
    [InlineData(ColumnType.Timestamp, "00000000", "0000-00-00T00:00:00")]   // old TIMESTAMP zero
    [InlineData(ColumnType.DateTime, "773B36775F120000", "2020-12-31T23:59:59")] // old DATETIME '2020-12-31 23:59:59'
    [InlineData(ColumnType.DateTime, "0000000000000000", "0000-00-00T00:00:00")] // old DATETIME zero
    [InlineData(ColumnType.Time, "A7F57F", "838:59:59")]                    // old TIME '838:59:59'
    [InlineData(ColumnType.Time, "590A80", "-838:59:59")]                   // old TIME '-838:59:59'
    [InlineData(ColumnType.Time, "000000", "00:00:00")]                     // old TIME '00:00:00'
    public void Pre_56_temporals_decode(ColumnType type, string hex, string expected)
    {
        Assert.Equal(expected, DecodeCell(type, 0, hex).ToString());
    }

    [Theory]
    [InlineData(ColumnType.Timestamp, 3, "3B9ACA00007B", "2001-09-09T01:46:40.123Z")]   // MariaDB 5.5 TIMESTAMP(3) '2001-09-09 01:46:40.123' UTC (hires)
    [InlineData(ColumnType.DateTime, 6, "0101F350A1601346", "2020-01-02T03:04:05.000006")] // MariaDB 5.5 DATETIME(6) hires
    [InlineData(ColumnType.DateTime, 3, "0042090A66C103", "2020-01-02T03:04:05.123")]     // MariaDB 5.5 DATETIME(3) hires
    [InlineData(ColumnType.Time, 2, "1200C32A", "-00:00:01.50")]                         // MariaDB 5.5 TIME(2) '-00:00:01.5' hires
    public void Mariadb_hires_temporals_decode_when_the_schema_gives_their_precision(ColumnType type, int fsp, string hex, string expected)
    {
        // The TABLE_MAP says nothing of the precision; a schema source puts it in the column metadata.
        var definition = new ColumnDefinition("c", type, fsp, true);
        var layout = ColumnLayout.Create(type, 0, definition);
        var bytes = Bytes.Hex(hex);
        var reader = new ByteReader(bytes);
        Assert.Equal(expected, ColumnDecoder.Decode(ref reader, layout).ToString());
        Assert.True(reader.IsAtEnd);
    }

    [Theory]
    [InlineData(1, 0, "01", 1UL)]                                   // BIT(1) b'1'
    [InlineData(1, 0, "00", 0UL)]                                   // BIT(1) b'0'
    [InlineData(4, 3, "07B55787", 0x7B55787UL)]                     // BIT(28) b'0111101101010101011110000111'
    [InlineData(0, 8, "FFFFFFFFFFFFFFFF", ulong.MaxValue)]          // BIT(64) all ones
    [InlineData(0, 1, "20", 0x20UL)]                                // BIT(8) b'00100000'
    public void Bit_decodes_big_endian_with_its_width(int bitsInLastByte, int wholeBytes, string hex, ulong expected)
    {
        var value = DecodeCell(ColumnType.Bit, (bitsInLastByte << 8) | wholeBytes, hex);
        Assert.Equal(ValueKind.Bit, value.Kind);
        Assert.Equal(expected, value.AsUInt64());
        Assert.Equal((wholeBytes * 8) + bitsInLastByte, value.Scale);
    }

    [Theory]
    [InlineData(45, 400, "0D00E697A5E69CACE8AA9EF09F9982", "日本語🙂")] // VARCHAR(100) utf8mb4 '日本語🙂' (2 length bytes)
    [InlineData(45, 40, "00", "")]                                    // VARCHAR(10) utf8mb4 '' (empty string)
    [InlineData(33, 30, "03616263", "abc")]                            // VARCHAR(10) utf8mb3 'abc'
    [InlineData(8, 10, "06636166E92080", "café €")]                    // VARCHAR(10) latin1 'café €' (0x80 is the euro sign, cp1252)
    [InlineData(8, 10, "0281FF", "\u0081ÿ")]                           // VARCHAR(10) latin1 x'81FF' (undefined in cp1252, kept as U+0081)
    [InlineData(11, 10, "0141", "A")]                                  // VARCHAR(10) ascii 'A'
    [InlineData(0, 10, "026869", "hi")]                                // VARCHAR(10), charset unknown: utf8
    [InlineData(9999, 10, "026869", "hi")]                             // VARCHAR(10), collation id no one knows: utf8
    [InlineData(54, 20, "04004100E9", "Aé")]                           // VARCHAR(10) utf16 'Aé'
    public void Varchar_decodes_by_collation(int collation, int maxLength, string hex, string expected)
    {
        var value = DecodeCell(ColumnType.VarChar, maxLength, hex, collation: collation);
        Assert.Equal(ValueKind.String, value.Kind);
        Assert.Equal(expected, value.AsString());
    }

    [Fact]
    public void Varbinary_with_binary_collation_is_bytes()
    {
        // VARBINARY(8) x'00FF10'
        var value = DecodeCell(ColumnType.VarChar, 8, "0300FF10", collation: TextDecoder.BinaryCollation);
        Assert.Equal(ValueKind.Bytes, value.Kind);
        Assert.Equal(new byte[] { 0x00, 0xFF, 0x10 }, value.AsBytes());
    }

    [Theory]
    [InlineData(0xFE28, "03616263", "abc")]     // CHAR(10) utf8mb4 'abc' (metadata FE 28: 40 bytes)
    [InlineData(0xEE90, "0300616263", "abc")]   // CHAR(100) utf8mb4 'abc': 400 bytes, two length bits hidden in the type byte
    [InlineData(0xCE20, "03006162 63", "abc")]  // CHAR(200) utf8mb4 'abc': 800 bytes (metadata CE 20)
    [InlineData(0xFE28, "00", "")]              // CHAR(10) ''
    public void Char_unpacks_its_real_length_from_the_metadata(int metadata, string hex, string expected)
    {
        var value = DecodeCell(ColumnType.String, metadata, hex, collation: 45);
        Assert.Equal(expected, value.AsString());
    }

    [Fact]
    public void Binary_n_gets_its_trailing_zero_padding_back()
    {
        // BINARY(4) x'01000000', which the server logs without its trailing zeros
        var value = DecodeCell(ColumnType.String, 0xFE04, "0101", collation: TextDecoder.BinaryCollation);
        Assert.Equal(new byte[] { 1, 0, 0, 0 }, value.AsBytes());
    }

    [Theory]
    [InlineData(0xF701, "02", 2, "Medium")]   // ENUM('Low','Medium','High') 'Medium'
    [InlineData(0xF701, "00", 0, "")]         // ENUM '' (the error value)
    [InlineData(0xF702, "0300", 3, "High")]   // ENUM with 2-byte index 'High'
    public void Enum_in_string_decodes_index_and_name(int metadata, string hex, int index, string name)
    {
        var value = DecodeCell(ColumnType.String, metadata, hex, names: ["Low", "Medium", "High"]);
        Assert.Equal(ValueKind.Enum, value.Kind);
        Assert.Equal(index, value.AsInt64());
        Assert.Equal(name, value.AsString());
    }

    [Fact]
    public void Enum_without_names_keeps_only_its_index()
    {
        // ENUM('a','b') 'b', TABLE_MAP without ENUM_STR_VALUE
        var value = DecodeCell(ColumnType.String, 0xF701, "02");
        Assert.Equal(2, value.AsInt64());
        Assert.Null(value.AsString());
        Assert.Equal("2", value.ToString());
    }

    [Theory]
    [InlineData("05", 5UL, "Green,Red")]   // SET('Green','Yellow','Red') 'Green,Red'
    [InlineData("00", 0UL, "")]            // SET ''
    [InlineData("07", 7UL, "Green,Yellow,Red")]
    public void Set_decodes_bits_and_member_names(string hex, ulong bits, string names)
    {
        var value = DecodeCell(ColumnType.String, 0xF801, hex, names: ["Green", "Yellow", "Red"]);
        Assert.Equal(ValueKind.Set, value.Kind);
        Assert.Equal(bits, value.AsUInt64());
        Assert.Equal(names, value.AsString());
    }

    [Fact]
    public void Set_of_eight_bytes_keeps_all_64_bits()
    {
        // SET with 64 members, all set
        var value = DecodeCell(ColumnType.String, 0xF808, "FFFFFFFFFFFFFFFF");
        Assert.Equal(ulong.MaxValue, value.AsUInt64());
    }

    [Theory]
    [InlineData(1, "03616263")]             // TINYBLOB x'616263'
    [InlineData(2, "0300616263")]           // BLOB x'616263'
    [InlineData(3, "030000616263")]         // MEDIUMBLOB x'616263'
    [InlineData(4, "03000000616263")]       // LONGBLOB x'616263'
    public void Blob_reads_its_length_in_1_to_4_bytes(int lengthBytes, string hex)
    {
        var value = DecodeCell(ColumnType.Blob, lengthBytes, hex, collation: TextDecoder.BinaryCollation);
        Assert.Equal(ValueKind.Bytes, value.Kind);
        Assert.Equal("abc"u8.ToArray(), value.AsBytes());
    }

    [Fact]
    public void Blob_without_a_known_charset_stays_bytes()
    {
        // BLOB x'FF00' in a TABLE_MAP without charset metadata
        var value = DecodeCell(ColumnType.Blob, 2, "0200FF00");
        Assert.Equal(ValueKind.Bytes, value.Kind);
    }

    [Fact]
    public void Text_decodes_as_a_string()
    {
        // TEXT utf8mb4 'ü'
        var value = DecodeCell(ColumnType.Blob, 2, "0200C3BC", collation: 255);
        Assert.Equal("ü", value.AsString());
    }

    [Fact]
    public void Mariadb_json_column_is_text_marked_as_json()
    {
        // MariaDB JSON (LONGTEXT CHECK json_valid) '{"a": 1}', with the schema saying it is JSON
        var value = DecodeCell(ColumnType.Blob, 4, "08000000" + Bytes.ToHex(Bytes.Utf8("{\"a\": 1}")).Replace(" ", ""), collation: 45, isJson: true);
        Assert.Equal(ValueKind.Json, value.Kind);
        Assert.Equal("{\"a\": 1}", value.AsString());
    }

    [Fact]
    public void Mariadb_json_column_without_schema_knowledge_is_a_string()
    {
        var value = DecodeCell(ColumnType.Blob, 4, "02000000" + "7B7D", collation: 45);
        Assert.Equal(ValueKind.String, value.Kind);
    }

    [Fact]
    public void Geometry_splits_srid_from_wkb()
    {
        // ST_GeomFromText('POINT(1 2)', 4326)
        var wkb = "0101000000000000000000F03F0000000000000040";
        var value = DecodeCell(ColumnType.Geometry, 4, "19000000E6100000" + wkb);
        Assert.Equal(ValueKind.Geometry, value.Kind);
        Assert.Equal(4326u, value.GeometrySrid);
        Assert.Equal(Bytes.Hex(wkb), value.AsBytes());
    }

    [Fact]
    public void Vector_keeps_its_float32_bytes()
    {
        // VECTOR(2) TO_VECTOR('[1,2]')
        var value = DecodeCell(ColumnType.Vector, 4, "08000000" + "0000803F00000040");
        Assert.Equal(ValueKind.Vector, value.Kind);
        Assert.Equal(Bytes.Hex("0000803F00000040"), value.AsBytes());
    }

    [Fact]
    public void Json_column_decodes_binary_json_to_text()
    {
        // JSON '[1, true]': small array, two inlined entries
        var value = DecodeCell(ColumnType.Json, 4, "0B000000" + "02" + "0200" + "0A00" + "050100" + "040100");
        Assert.Equal(ValueKind.Json, value.Kind);
        Assert.Equal("[1,true]", value.AsString());
    }

    [Fact]
    public void A_cell_running_past_the_data_is_a_format_error()
    {
        // VARCHAR claiming 5 bytes with 2 present
        Assert.Throws<FormatException>(() => DecodeCell(ColumnType.VarChar, 10, "056869"));
    }
}
