using System.Globalization;
using System.Text.Json.Nodes;
using MySqlConnector;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Writes every supported column type to MariaDB with edge values (min, max, zero, negative,
/// fractional seconds 0..6, multi-byte text, empty strings, each charset) and checks that the value
/// <c>replicator tail</c> prints is exactly what was written, in the event format of DESIGN.md.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class TypeMatrixTests
{
    private const int ColumnsPerTable = 40;

    /// <summary>
    /// (column definition, SQL literal written, JSON expected). A null JSON means the expected value
    /// is the base64 WKB the server itself gives for the literal (GEOMETRY).
    /// </summary>
    public static readonly TypeCase[] Cases =
    [
        // Integers, signed and unsigned, at both ends and zero.
        new("TINYINT", "-128", "-128"),
        new("TINYINT", "127", "127"),
        new("TINYINT", "0", "0"),
        new("TINYINT UNSIGNED", "255", "255"),
        new("TINYINT UNSIGNED", "0", "0"),
        new("SMALLINT", "-32768", "-32768"),
        new("SMALLINT", "32767", "32767"),
        new("SMALLINT UNSIGNED", "65535", "65535"),
        new("MEDIUMINT", "-8388608", "-8388608"),
        new("MEDIUMINT", "8388607", "8388607"),
        new("MEDIUMINT", "-1", "-1"),
        new("MEDIUMINT UNSIGNED", "16777215", "16777215"),
        new("INT", "-2147483648", "-2147483648"),
        new("INT", "2147483647", "2147483647"),
        new("INT", "0", "0"),
        new("INT UNSIGNED", "4294967295", "4294967295"),
        new("BIGINT", "-9223372036854775808", "-9223372036854775808"),
        new("BIGINT", "9223372036854775807", "9223372036854775807"),
        new("BIGINT", "-1", "-1"),
        new("BIGINT UNSIGNED", "18446744073709551615", "18446744073709551615"),
        new("BIGINT UNSIGNED", "9223372036854775808", "9223372036854775808"),
        new("BIGINT UNSIGNED", "0", "0"),

        // DECIMAL: exact digits, including past System.Decimal's range.
        new("DECIMAL(65,30)", "-12345678901234567890123456789012345.123456789012345678901234567890", "\"-12345678901234567890123456789012345.123456789012345678901234567890\""),
        new("DECIMAL(65,30)", "99999999999999999999999999999999999.999999999999999999999999999999", "\"99999999999999999999999999999999999.999999999999999999999999999999\""),
        new("DECIMAL(65,0)", "-99999999999999999999999999999999999999999999999999999999999999999", "\"-99999999999999999999999999999999999999999999999999999999999999999\""),
        new("DECIMAL(30,30)", "0.000000000000000000000000000001", "\"0.000000000000000000000000000001\""),
        new("DECIMAL(30,30)", "-0.999999999999999999999999999999", "\"-0.999999999999999999999999999999\""),
        new("DECIMAL(10,2)", "0", "\"0.00\""),
        new("DECIMAL(10,4)", "-0.0001", "\"-0.0001\""),
        new("DECIMAL(4,2)", "-0.5", "\"-0.50\""),
        new("DECIMAL(5,0)", "99999", "\"99999\""),
        new("DECIMAL(18,9)", "123456789.123456789", "\"123456789.123456789\""),
        new("DECIMAL(19,0)", "-1000000000000000000", "\"-1000000000000000000\""),

        // FLOAT and DOUBLE.
        new("FLOAT", "1.5", "1.5"),
        new("FLOAT", "-3.4028235e38", "-3.4028235e38"),
        new("FLOAT", "1.17549435e-38", "1.17549435e-38"),
        new("FLOAT", "0", "0"),
        new("DOUBLE", "-2.5e-300", "-2.5e-300"),
        new("DOUBLE", "1.7976931348623157e308", "1.7976931348623157e308"),
        new("DOUBLE", "-2.2250738585072014e-308", "-2.2250738585072014e-308"),
        new("DOUBLE", "0.1", "0.1"),
        new("DOUBLE", "0", "0"),

        // BIT(1..64).
        new("BIT(1)", "b'1'", "1"),
        new("BIT(1)", "b'0'", "0"),
        new("BIT(5)", "b'10101'", "21"),
        new("BIT(8)", "b'11111111'", "255"),
        new("BIT(9)", "b'100000001'", "257"),
        new("BIT(17)", "b'1'", "1"),
        new("BIT(33)", "b'100000000000000000000000000000001'", "4294967297"),
        new("BIT(63)", "b'111111111111111111111111111111111111111111111111111111111111111'", "9223372036854775807"),
        new("BIT(64)", "b'1111111111111111111111111111111111111111111111111111111111111111'", "18446744073709551615"),
        new("BIT(64)", "b'0'", "0"),

        // YEAR and DATE, zero dates and zero-in-date values included.
        new("YEAR", "2155", "2155"),
        new("YEAR", "1901", "1901"),
        new("YEAR", "2000", "2000"),
        new("YEAR", "0", "0"),
        new("DATE", "'1000-01-01'", "\"1000-01-01\""),
        new("DATE", "'9999-12-31'", "\"9999-12-31\""),
        new("DATE", "'0001-01-01'", "\"0001-01-01\""),
        new("DATE", "'0000-00-00'", "\"0000-00-00\"", ZeroDate: true),
        new("DATE", "'2020-00-15'", "\"2020-00-15\"", ZeroDate: true),
        new("DATE", "'2020-02-00'", "\"2020-02-00\"", ZeroDate: true),

        // DATETIME(0..6).
        new("DATETIME", "'2026-02-03 04:05:06'", "\"2026-02-03T04:05:06\""),
        new("DATETIME", "'1000-01-01 00:00:00'", "\"1000-01-01T00:00:00\""),
        new("DATETIME(1)", "'2026-02-03 04:05:06.1'", "\"2026-02-03T04:05:06.1\""),
        new("DATETIME(2)", "'2026-02-03 04:05:06.12'", "\"2026-02-03T04:05:06.12\""),
        new("DATETIME(3)", "'2026-02-03 04:05:06.123'", "\"2026-02-03T04:05:06.123\""),
        new("DATETIME(4)", "'2020-01-01 00:00:00.0001'", "\"2020-01-01T00:00:00.0001\""),
        new("DATETIME(5)", "'2026-02-03 04:05:06.12345'", "\"2026-02-03T04:05:06.12345\""),
        new("DATETIME(6)", "'9999-12-31 23:59:59.999999'", "\"9999-12-31T23:59:59.999999\""),
        new("DATETIME(6)", "'1000-01-01 00:00:00.000001'", "\"1000-01-01T00:00:00.000001\""),
        new("DATETIME", "'0000-00-00 00:00:00'", "\"0000-00-00T00:00:00\"", ZeroDate: true),
        new("DATETIME(3)", "'2020-00-15 00:00:00.120'", "\"2020-00-15T00:00:00.120\"", ZeroDate: true),

        // TIMESTAMP(0..6), in UTC with Z; the zero timestamp keeps its literal text.
        new("TIMESTAMP NULL", "'1970-01-01 00:00:01'", "\"1970-01-01T00:00:01Z\""),
        new("TIMESTAMP NULL", "'2038-01-19 03:14:07'", "\"2038-01-19T03:14:07Z\""),
        new("TIMESTAMP(1) NULL", "'2001-02-03 04:05:06.7'", "\"2001-02-03T04:05:06.7Z\""),
        new("TIMESTAMP(2) NULL", "'2000-02-29 12:00:00.12'", "\"2000-02-29T12:00:00.12Z\""),
        new("TIMESTAMP(3) NULL", "'2038-01-19 03:14:07.499'", "\"2038-01-19T03:14:07.499Z\""),
        new("TIMESTAMP(4) NULL", "'2020-06-30 23:59:59.0001'", "\"2020-06-30T23:59:59.0001Z\""),
        new("TIMESTAMP(5) NULL", "'1999-12-31 23:59:59.99999'", "\"1999-12-31T23:59:59.99999Z\""),
        new("TIMESTAMP(6) NULL", "'2038-01-19 03:14:07.999999'", "\"2038-01-19T03:14:07.999999Z\""),
        new("TIMESTAMP(6) NULL", "'1970-01-01 00:00:01.000001'", "\"1970-01-01T00:00:01.000001Z\""),
        new("TIMESTAMP NULL", "'0000-00-00 00:00:00'", "\"0000-00-00T00:00:00\"", ZeroDate: true),
        new("TIMESTAMP(2) NULL", "'0000-00-00 00:00:00'", "\"0000-00-00T00:00:00.00\"", ZeroDate: true),

        // TIME(0..6), negative and over 24 hours.
        new("TIME", "'-838:59:59'", "\"-838:59:59\""),
        new("TIME", "'838:59:59'", "\"838:59:59\""),
        new("TIME", "'00:00:00'", "\"00:00:00\""),
        new("TIME", "'-00:00:01'", "\"-00:00:01\""),
        new("TIME", "'100:00:00'", "\"100:00:00\""),
        new("TIME(1)", "'-01:02:03.4'", "\"-01:02:03.4\""),
        new("TIME(2)", "'25:00:00.5'", "\"25:00:00.50\""),
        new("TIME(3)", "'12:34:56.789'", "\"12:34:56.789\""),
        new("TIME(4)", "'-12:34:56.0001'", "\"-12:34:56.0001\""),
        new("TIME(5)", "'00:00:00.00001'", "\"00:00:00.00001\""),
        new("TIME(6)", "'-00:00:00.000001'", "\"-00:00:00.000001\""),
        new("TIME(6)", "'838:59:58.999999'", "\"838:59:58.999999\""),
        new("TIME(6)", "'-838:59:58.999999'", "\"-838:59:58.999999\""),

        // CHAR, VARCHAR and TEXT in utf8mb4, utf8mb3, latin1 and binary.
        new("CHAR(5)", "'ab'", "\"ab\""),
        new("CHAR(5)", "''", "\"\""),
        new("CHAR(4) CHARACTER SET utf8mb4", "'𝄞é✓'", "\"𝄞é✓\""),
        new("CHAR(255) CHARACTER SET utf8mb4", "REPEAT('é', 255)", "\"" + string.Concat(Enumerable.Repeat("é", 255)) + "\""),
        new("CHAR(100) CHARACTER SET utf8mb3", "'naïve ✓'", "\"naïve ✓\""),
        new("CHAR(10) CHARACTER SET latin1", "'Größe'", "\"Größe\""),
        new("CHAR(3) CHARACTER SET binary", "x'0001'", "\"AAEA\""),
        new("VARCHAR(50) CHARACTER SET utf8mb4", "'café ✓ 𝄞'", "\"café ✓ 𝄞\""),
        new("VARCHAR(100) CHARACTER SET utf8mb4", "REPEAT('😀', 100)", "\"" + string.Concat(Enumerable.Repeat("😀", 100)) + "\""),
        new("VARCHAR(50) CHARACTER SET utf8mb3", "'naïve'", "\"naïve\""),
        new("VARCHAR(50) CHARACTER SET latin1", "'Größe € ÿ'", "\"Größe € ÿ\""),
        new("VARCHAR(300) CHARACTER SET latin1", "REPEAT('x', 300)", "\"" + new string('x', 300) + "\""),
        new("VARCHAR(20)", "''", "\"\""),
        new("VARCHAR(20)", "'quote \" back\\\\slash'", "\"quote \\\" back\\\\slash\""),
        new("VARCHAR(10) CHARACTER SET binary", "x'00FF10'", "\"AP8Q\""),
        new("TINYTEXT", "'tiny ✓'", "\"tiny ✓\""),
        new("TEXT", "''", "\"\""),
        new("TEXT CHARACTER SET latin1", "'Ærø'", "\"Ærø\""),
        new("TEXT CHARACTER SET utf8mb3", "'日本語'", "\"日本語\""),
        new("MEDIUMTEXT", "'multi\\nline'", "\"multi\\nline\""),
        new("LONGTEXT", "REPEAT('ab✓', 30000)", "\"" + string.Concat(Enumerable.Repeat("ab✓", 30000)) + "\""),

        // BINARY, VARBINARY and BLOB.
        new("BINARY(4)", "x'00FF'", "\"AP8AAA==\""),
        new("BINARY(1)", "x'00'", "\"AA==\""),
        new("VARBINARY(10)", "x'DEADBEEF'", "\"3q2+7w==\""),
        new("VARBINARY(10)", "x''", "\"\""),
        new("TINYBLOB", "x'80'", "\"gA==\""),
        new("BLOB", "x''", "\"\""),
        new("MEDIUMBLOB", "x'000102FDFEFF'", "\"AAEC/f7/\""),
        new("LONGBLOB", "x'0102'", "\"AQI=\""),

        // ENUM and SET by their names.
        new("ENUM('a','b','c')", "'b'", "\"b\""),
        new("ENUM('a','b','c')", "'a'", "\"a\""),
        new("ENUM('a','b','c')", "'c'", "\"c\""),
        new("ENUM('a','b','c')", "'not a member'", "\"\""),
        new("ENUM('ä','✓','x y')", "'✓'", "\"✓\""),
        new("ENUM(" + string.Join(",", Enumerable.Range(1, 300).Select(i => $"'v{i}'")) + ")", "'v300'", "\"v300\""),
        new("SET('x','y','z')", "'x,z'", "\"x,z\""),
        new("SET('x','y','z')", "'z,x'", "\"x,z\""),
        new("SET('x','y','z')", "''", "\"\""),
        new("SET('x','y','z')", "'x,y,z'", "\"x,y,z\""),
        new("SET(" + string.Join(",", Enumerable.Range(1, 64).Select(i => $"'m{i}'")) + ")", "'m1,m64'", "\"m1,m64\""),

        // JSON (MariaDB keeps it as text).
        new("JSON", "'{\"a\": [1, 2.5, \"s\"], \"b\": null}'", "{\"a\":[1,2.5,\"s\"],\"b\":null}"),
        new("JSON", "'[1, \"a\", true, false, {}]'", "[1,\"a\",true,false,{}]"),
        new("JSON", "'\"text ✓\"'", "\"text ✓\""),
        new("JSON", "'-3.5e2'", "-350"),

        // GEOMETRY as WKB, every kind; the expected WKB is the server's own ST_AsBinary.
        new("GEOMETRY", "ST_GeomFromText('POINT(1 2)')", "\"AQEAAAAAAAAAAADwPwAAAAAAAABA\""),
        new("GEOMETRY", "ST_GeomFromText('POINT(-1.5 1e300)', 4326)", null),
        new("POINT", "ST_GeomFromText('POINT(0 0)')", null),
        new("LINESTRING", "ST_GeomFromText('LINESTRING(0 0,1 1,2 -2)')", null),
        new("POLYGON", "ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,2 1,2 2,1 1))')", null),
        new("MULTIPOINT", "ST_GeomFromText('MULTIPOINT(1 1,2 2)')", null),
        new("MULTILINESTRING", "ST_GeomFromText('MULTILINESTRING((0 0,1 1),(2 2,3 3))')", null),
        new("MULTIPOLYGON", "ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))')", null),
        new("GEOMETRYCOLLECTION", "ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))')", null),
    ];

    [Fact]
    public async Task Every_type_decodes_to_exactly_what_was_written_and_nulls_to_null()
    {
        await using var table = await TypeTables.CreateAsync("cap_types", Cases);
        var rows = await table.TailAsync();
        var failures = new List<string>();
        for (var i = 0; i < Cases.Length; i++)
        {
            var (written, nulls) = rows[table.TableOf(i)];
            var actual = written[$"c{i}"];
            var expected = JsonNode.Parse(table.ExpectedJson[i]);
            if (!Same(expected, actual))
            {
                failures.Add($"{Cases[i].Column} {Cases[i].Sql}: expected {table.ExpectedJson[i]}, got {actual?.ToJsonString() ?? "null"}");
            }

            if (!nulls.ContainsKey($"c{i}") || nulls[$"c{i}"] is not null)
            {
                failures.Add($"{Cases[i].Column} NULL: got {nulls[$"c{i}"]?.ToJsonString() ?? "no column"}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Zero_dates_print_as_null_with_zero_dates_null_and_other_dates_stay_literal()
    {
        var cases = Cases.Where(c => c.Column.StartsWith("DATE", StringComparison.Ordinal) || c.Column.StartsWith("TIMESTAMP", StringComparison.Ordinal)).ToArray();
        Assert.Contains(cases, c => c.ZeroDate);
        Assert.Contains(cases, c => !c.ZeroDate);
        await using var table = await TypeTables.CreateAsync("cap_zero", cases);
        var rows = await table.TailAsync("--zero-dates", "null");
        var failures = new List<string>();
        for (var i = 0; i < cases.Length; i++)
        {
            var actual = rows[table.TableOf(i)].Written[$"c{i}"];
            var expected = cases[i].ZeroDate ? null : JsonNode.Parse(cases[i].Json!);
            if (!Same(expected, actual))
            {
                failures.Add($"{cases[i].Column} {cases[i].Sql}: expected {expected?.ToJsonString() ?? "null"}, got {actual?.ToJsonString() ?? "null"}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Generated_columns_virtual_and_stored_carry_their_computed_values()
    {
        var s = Servers.UniqueSchema("cap_gen");
        await Servers.ExecuteAsync($"""
            CREATE DATABASE {s};
            CREATE TABLE {s}.g (
              id INT PRIMARY KEY,
              a INT,
              txt VARCHAR(20) CHARACTER SET utf8mb4,
              doubled INT AS (a * 2) VIRTUAL,
              label VARCHAR(40) CHARACTER SET utf8mb4 AS (CONCAT(txt, '#', a)) STORED,
              upper_txt VARCHAR(20) CHARACTER SET utf8mb4 AS (UPPER(txt)) VIRTUAL);
            INSERT INTO {s}.g (id, a, txt) VALUES (1, 21, 'é✓'), (2, NULL, NULL);
            UPDATE {s}.g SET a = -5, txt = 'x' WHERE id = 1;
            """);
        try
        {
            var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(2), "tail", "--source", Servers.MariaDbCdc, "--tables", $"{s}.g", "--from-start", "--until-now");
            Assert.True(result.ExitCode == 0, result.StandardError);
            var changes = Lines(result.StandardOutput);
            Assert.Equal(3, changes.Count);
            AssertRow(changes[0]["after"], """{"id":1,"a":21,"txt":"é✓","doubled":42,"label":"é✓#21","upper_txt":"É✓"}""");
            AssertRow(changes[1]["after"], """{"id":2,"a":null,"txt":null,"doubled":null,"label":null,"upper_txt":null}""");
            AssertRow(changes[2]["before"], """{"id":1,"a":21,"txt":"é✓","doubled":42,"label":"é✓#21","upper_txt":"É✓"}""");
            AssertRow(changes[2]["after"], """{"id":1,"a":-5,"txt":"x","doubled":-10,"label":"x#-5","upper_txt":"X"}""");
        }
        finally
        {
            await Servers.ExecuteAsync($"DROP DATABASE {s}");
        }
    }

    internal static List<JsonObject> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    internal static void AssertRow(JsonNode? actual, string expected) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual?.ToJsonString() ?? "null"}");

    internal static bool Same(JsonNode? expected, JsonNode? actual)
    {
        if (expected is null || actual is null)
        {
            return expected is null && actual is null;
        }

        if (expected is JsonValue e && actual is JsonValue a && e.GetValueKind() == System.Text.Json.JsonValueKind.Number && a.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            var et = e.ToJsonString();
            var at = a.ToJsonString();
            return et == at
                || (decimal.TryParse(et, NumberStyles.Float, CultureInfo.InvariantCulture, out var ed) && decimal.TryParse(at, NumberStyles.Float, CultureInfo.InvariantCulture, out var ad) && ed == ad)
                || double.Parse(et, CultureInfo.InvariantCulture) == double.Parse(at, CultureInfo.InvariantCulture);
        }

        return JsonNode.DeepEquals(expected, actual);
    }

    /// <summary>One type case: the column definition, the SQL literal written, the JSON expected (null: the server's WKB).</summary>
    public sealed record TypeCase(string Column, string Sql, string? Json, bool ZeroDate = false);

    /// <summary>
    /// The cases spread over tables of <see cref="ColumnsPerTable"/> columns (a MariaDB row has a
    /// size limit), each with one row of the written values and one row of NULLs.
    /// </summary>
    private sealed class TypeTables : IAsyncDisposable
    {
        private readonly string _schema;
        private readonly int _tables;

        private TypeTables(string schema, int tables, string[] expectedJson)
        {
            _schema = schema;
            _tables = tables;
            ExpectedJson = expectedJson;
        }

        public string[] ExpectedJson { get; }

        public static async Task<TypeTables> CreateAsync(string prefix, IReadOnlyList<TypeCase> cases)
        {
            var schema = Servers.UniqueSchema(prefix);
            var tables = (cases.Count + ColumnsPerTable - 1) / ColumnsPerTable;
            var expected = new string[cases.Count];
            await using var connection = await Servers.OpenAdminAsync();
            var script = new System.Text.StringBuilder($"""
                SET SESSION sql_mode = '';
                SET SESSION time_zone = '+00:00';
                CREATE DATABASE {schema};

                """);
            for (var t = 0; t < tables; t++)
            {
                var range = Enumerable.Range(t * ColumnsPerTable, Math.Min(ColumnsPerTable, cases.Count - (t * ColumnsPerTable))).ToList();
                var columns = string.Join(", ", range.Select(i => $"c{i} {cases[i].Column}"));
                var values = string.Join(", ", range.Select(i => cases[i].Sql));
                var nulls = string.Join(", ", range.Select(_ => "NULL"));
                script.AppendLine(CultureInfo.InvariantCulture, $"CREATE TABLE {schema}.t{t} (id INT PRIMARY KEY, {columns}) DEFAULT CHARSET = utf8mb4;");
                script.AppendLine(CultureInfo.InvariantCulture, $"INSERT INTO {schema}.t{t} VALUES (1, {values});");
                script.AppendLine(CultureInfo.InvariantCulture, $"INSERT INTO {schema}.t{t} VALUES (2, {nulls});");
            }

            await using (var command = new MySqlCommand(script.ToString(), connection))
            {
                await command.ExecuteNonQueryAsync();
            }

            for (var i = 0; i < cases.Count; i++)
            {
                if (cases[i].Json is { } json)
                {
                    expected[i] = json;
                    continue;
                }

                await using var command = new MySqlCommand($"SELECT REPLACE(TO_BASE64(ST_AsBinary({cases[i].Sql})), '\\n', '')", connection);
                expected[i] = System.Text.Json.JsonSerializer.Serialize((string)(await command.ExecuteScalarAsync())!);
            }

            return new TypeTables(schema, tables, expected);
        }

        public int TableOf(int caseIndex) => caseIndex / ColumnsPerTable;

        /// <summary>Runs tail over the schema and returns, per table, the after image of the written row and of the NULL row.</summary>
        public async Task<(JsonObject Written, JsonObject Nulls)[]> TailAsync(params string[] extra)
        {
            var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(2), ["tail", "--source", Servers.MariaDbCdc, "--tables", $"{_schema}.*", "--from-start", "--until-now", .. extra]);
            Assert.True(result.ExitCode == 0, result.StandardError);
            var changes = Lines(result.StandardOutput);
            Assert.Equal(_tables * 2, changes.Count);
            var rows = new (JsonObject, JsonObject)[_tables];
            for (var t = 0; t < _tables; t++)
            {
                var ofTable = changes.Where(c => c["table"]!.GetValue<string>() == $"t{t}").ToList();
                Assert.Equal(2, ofTable.Count);
                Assert.All(ofTable, c => Assert.Equal("write", c["action"]!.GetValue<string>()));
                rows[t] = (ofTable[0]["after"]!.AsObject(), ofTable[1]["after"]!.AsObject());
            }

            return rows;
        }

        public async ValueTask DisposeAsync() => await Servers.ExecuteAsync($"DROP DATABASE IF EXISTS {_schema}");
    }
}
