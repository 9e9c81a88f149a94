using System.Globalization;
using System.Text.Json.Nodes;
using MySqlConnector;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Writes every supported column type to MariaDB with edge values and checks that the decoded
/// value <c>replicator tail</c> prints is exactly what was written, in the event format of DESIGN.md.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class TypeMatrixTests
{
    /// <summary>(column definition, SQL literal written, JSON expected).</summary>
    public static readonly (string Column, string Sql, string Json)[] Cases =
    [
        ("TINYINT", "-128", "-128"),
        ("TINYINT UNSIGNED", "255", "255"),
        ("SMALLINT", "-32768", "-32768"),
        ("SMALLINT UNSIGNED", "65535", "65535"),
        ("MEDIUMINT", "-8388608", "-8388608"),
        ("MEDIUMINT UNSIGNED", "16777215", "16777215"),
        ("INT", "-2147483648", "-2147483648"),
        ("INT UNSIGNED", "4294967295", "4294967295"),
        ("BIGINT", "-9223372036854775808", "-9223372036854775808"),
        ("BIGINT UNSIGNED", "18446744073709551615", "18446744073709551615"),
        ("INT", "0", "0"),
        ("DECIMAL(65,30)", "-12345678901234567890123456789012345.123456789012345678901234567890", "\"-12345678901234567890123456789012345.123456789012345678901234567890\""),
        ("DECIMAL(10,2)", "0", "\"0.00\""),
        ("DECIMAL(10,4)", "-0.0001", "\"-0.0001\""),
        ("DECIMAL(5,0)", "99999", "\"99999\""),
        ("FLOAT", "1.5", "1.5"),
        ("DOUBLE", "-2.5e-300", "-2.5e-300"),
        ("DOUBLE", "0", "0"),
        ("BIT(1)", "b'1'", "1"),
        ("BIT(5)", "b'10101'", "21"),
        ("BIT(64)", "b'1111111111111111111111111111111111111111111111111111111111111111'", "18446744073709551615"),
        ("YEAR", "2155", "2155"),
        ("DATE", "'1000-01-01'", "\"1000-01-01\""),
        ("DATE", "'0000-00-00'", "\"0000-00-00\""),
        ("DATETIME", "'2026-02-03 04:05:06'", "\"2026-02-03T04:05:06\""),
        ("DATETIME(6)", "'9999-12-31 23:59:59.999999'", "\"9999-12-31T23:59:59.999999\""),
        ("DATETIME(3)", "'2020-00-15 00:00:00.120'", "\"2020-00-15T00:00:00.120\""),
        ("TIMESTAMP(3) NULL", "'2038-01-19 03:14:07.499'", "\"2038-01-19T03:14:07.499Z\""),
        ("TIMESTAMP NULL", "'1970-01-01 00:00:01'", "\"1970-01-01T00:00:01Z\""),
        ("TIME", "'-838:59:59'", "\"-838:59:59\""),
        ("TIME(2)", "'25:00:00.5'", "\"25:00:00.50\""),
        ("TIME(6)", "'-00:00:00.000001'", "\"-00:00:00.000001\""),
        ("CHAR(5)", "'ab'", "\"ab\""),
        ("VARCHAR(50) CHARACTER SET utf8mb4", "'café ✓ 𝄞'", "\"café ✓ 𝄞\""),
        ("VARCHAR(50) CHARACTER SET utf8mb3", "'naïve'", "\"naïve\""),
        ("VARCHAR(50) CHARACTER SET latin1", "'Größe'", "\"Größe\""),
        ("VARCHAR(300)", "REPEAT('x', 300)", "\"" + new string('x', 300) + "\""),
        ("TEXT", "''", "\"\""),
        ("MEDIUMTEXT", "'multi\\nline'", "\"multi\\nline\""),
        ("BINARY(4)", "x'00FF'", "\"AP8AAA==\""),
        ("VARBINARY(10)", "x'DEADBEEF'", "\"3q2+7w==\""),
        ("BLOB", "x''", "\"\""),
        ("LONGBLOB", "x'0102'", "\"AQI=\""),
        ("ENUM('a','b','c')", "'b'", "\"b\""),
        ("SET('x','y','z')", "'x,z'", "\"x,z\""),
        ("JSON", "'{\"a\": [1, 2.5, \"s\"], \"b\": null}'", "{\"a\":[1,2.5,\"s\"],\"b\":null}"),
        ("GEOMETRY", "ST_GeomFromText('POINT(1 2)')", "\"AQEAAAAAAAAAAADwPwAAAAAAAABA\""),
    ];

    [Fact]
    public async Task Every_type_decodes_to_exactly_what_was_written_and_nulls_to_null()
    {
        var s = Servers.UniqueSchema("it_types");
        var columns = string.Join(", ", Cases.Select((c, i) => $"c{i} {c.Column}"));
        var values = string.Join(", ", Cases.Select(c => c.Sql));
        var nulls = string.Join(", ", Cases.Select(_ => "NULL"));
        await using (var connection = await Servers.OpenAdminAsync())
        {
            await using var command = new MySqlCommand($"""
                SET SESSION sql_mode = '';
                SET SESSION time_zone = '+00:00';
                CREATE DATABASE {s};
                CREATE TABLE {s}.types (id INT PRIMARY KEY, {columns}) DEFAULT CHARSET = utf8mb4;
                INSERT INTO {s}.types VALUES (1, {values});
                INSERT INTO {s}.types VALUES (2, {nulls});
                """, connection);
            await command.ExecuteNonQueryAsync();
        }

        try
        {
            var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(2), "tail", "--source", Servers.MariaDbCdc, "--tables", $"{s}.types", "--from-start", "--until-now");
            Assert.True(result.ExitCode == 0, result.StandardError);
            var rows = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["after"]!.AsObject()).ToList();
            Assert.Equal(2, rows.Count);
            var failures = new List<string>();
            for (var i = 0; i < Cases.Length; i++)
            {
                var actual = rows[0][$"c{i}"];
                var expected = JsonNode.Parse(Cases[i].Json);
                if (!Same(expected, actual))
                {
                    failures.Add($"{Cases[i].Column} {Cases[i].Sql}: expected {Cases[i].Json}, got {actual?.ToJsonString() ?? "null"}");
                }

                if (rows[1][$"c{i}"] is not null)
                {
                    failures.Add($"{Cases[i].Column} NULL: got {rows[1][$"c{i}"]!.ToJsonString()}");
                }
            }

            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally
        {
            await Servers.ExecuteAsync($"DROP DATABASE {s}");
        }
    }

    private static bool Same(JsonNode? expected, JsonNode? actual)
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
}
