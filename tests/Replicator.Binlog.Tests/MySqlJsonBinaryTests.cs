using System.Text.Json.Nodes;
using Replicator.Binlog.Vendors.MySql;
using static Replicator.Binlog.Tests.JsonbWriter;

namespace Replicator.Binlog.Tests;

/// <summary>MySQL binary JSON to text: every node type, both container sizes, MySQL's rendering.</summary>
public sealed class MySqlJsonBinaryTests
{
    public static TheoryData<string, Node, string> Documents() => new()
    {
        { "JSON_OBJECT()", new Obj(false), "{}" },
        { "JSON_ARRAY()", new Arr(false), "[]" },
        { "null", new Lit(0), "null" },
        { "true", new Lit(1), "true" },
        { "false", new Lit(2), "false" },
        { "-32768 as int16", new Int(5, -32768), "-32768" },
        { "65535 as uint16", new Int(6, 65535), "65535" },
        { "-2147483648 as int32", new Int(7, int.MinValue), "-2147483648" },
        { "4294967295 as uint32", new Int(8, uint.MaxValue), "4294967295" },
        { "-9223372036854775808 as int64", new Int(9, long.MinValue), "-9223372036854775808" },
        { "18446744073709551615 as uint64", new Int(10, -1), "18446744073709551615" },
        { "3.5 as double", new Dbl(3.5), "3.5" },
        { "1.0 as double keeps .0", new Dbl(1.0), "1.0" },
        { "1e100 as double", new Dbl(1e100), "1e100" },
        { "-1.5e-7 as double", new Dbl(-1.5e-7), "-1.5e-7" },
        { "a string with escapes", new Str("a\"b\\c\n\u0001é😀"), "\"a\\\"b\\\\c\\n\\u0001é😀\"" },
        { "empty string", new Str(""), "\"\"" },
        {
            "small object with inlined and offset values",
            new Obj(false, ("a", new Int(5, 1)), ("bb", new Str("x")), ("ccc", new Arr(false, new Lit(1), new Lit(0)))),
            "{\"a\":1,\"bb\":\"x\",\"ccc\":[true,null]}"
        },
        {
            "large object inlines int32",
            new Obj(true, ("k", new Int(7, -5)), ("l", new Int(8, 7)), ("m", new Str("v"))),
            "{\"k\":-5,\"l\":7,\"m\":\"v\"}"
        },
        {
            "large array of nested containers",
            new Arr(true, new Obj(false, ("id", new Int(5, 1))), new Arr(false, new Dbl(0.1)), new Int(9, 1L << 40)),
            "[{\"id\":1},[0.1],1099511627776]"
        },
        {
            "DECIMAL opaque 12.50 (precision 4, scale 2)",
            new Opaque(246, [4, 2, 0x8C, 0x32]),
            "12.50"
        },
        {
            "DATE opaque 2015-01-15",
            new Opaque(10, BitConverter.GetBytes(PackedDateTime(2015, 1, 15, 0, 0, 0, 0))),
            "\"2015-01-15\""
        },
        {
            "DATETIME opaque 2015-01-15 23:24:25.000123",
            new Opaque(12, BitConverter.GetBytes(PackedDateTime(2015, 1, 15, 23, 24, 25, 123))),
            "\"2015-01-15 23:24:25.000123\""
        },
        {
            "TIMESTAMP opaque 2020-02-29 00:00:01",
            new Opaque(7, BitConverter.GetBytes(PackedDateTime(2020, 2, 29, 0, 0, 1, 0))),
            "\"2020-02-29 00:00:01.000000\""
        },
        {
            "TIME opaque -838:59:59",
            new Opaque(11, BitConverter.GetBytes(-((((838L << 12) | (59 << 6) | 59) << 24)))),
            "\"-838:59:59.000000\""
        },
        {
            "BLOB opaque x'0102'",
            new Opaque(252, [1, 2]),
            "\"base64:type252:AQI=\""
        },
        {
            "opaque VAR_STRING is a plain string",
            new Opaque(253, "hi"u8.ToArray()),
            "\"hi\""
        },
    };

    [Theory]
    [MemberData(nameof(Documents))]
    public void Binary_json_renders_like_mysql(string sql, Node node, string expected)
    {
        Assert.True(expected == MySqlJsonBinary.ToJson(Document(node)), sql);
    }

    [Fact]
    public void Rendered_json_parses_as_standard_json()
    {
        foreach (var row in Documents())
        {
            var text = MySqlJsonBinary.ToJson(Document((Node)row[1]));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse((string)row[2]), JsonNode.Parse(text)), (string)row[0]);
        }
    }

    [Fact]
    public void A_long_string_uses_a_multi_byte_length()
    {
        var text = new string('x', 300);
        Assert.Equal("\"" + text + "\"", MySqlJsonBinary.ToJson(Document(new Str(text))));
    }

    [Fact]
    public void An_empty_document_is_json_null()
    {
        Assert.Equal("null", MySqlJsonBinary.ToJson([]));
    }

    [Fact]
    public void A_truncated_document_is_a_format_error()
    {
        var bytes = Document(new Obj(false, ("abc", new Str("value"))));
        Assert.Throws<FormatException>(() => MySqlJsonBinary.ToJson(bytes[..^3]));
    }

    [Fact]
    public void An_unknown_node_type_is_a_format_error()
    {
        var error = Assert.Throws<FormatException>(() => MySqlJsonBinary.ToJson([0x0E, 0x00]));
        Assert.Contains("0x0E", error.Message);
    }

    [Fact]
    public void An_offset_outside_the_container_is_a_format_error()
    {
        // Small array of one string whose offset points past the array's 9 bytes
        Assert.Throws<FormatException>(() => MySqlJsonBinary.ToJson(Bytes.Hex("02 0100 0700 0C 6300")));
    }

    private static long PackedDateTime(int year, int month, int day, int hour, int minute, int second, int micro)
    {
        long ymd = (((year * 13L) + month) << 5) | (long)day;
        long hms = ((long)hour << 12) | ((long)minute << 6) | (long)second;
        return (((ymd << 17) | hms) << 24) + micro;
    }
}
