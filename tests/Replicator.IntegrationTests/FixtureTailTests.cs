using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Every recorded binlog under tests/fixtures/binlog, fed through <c>replicator tail --file</c> (the
/// same decoder the network path uses), prints one change per row of its expected.json, with the
/// values expected.json gives. expected.json's conventions (PROVENANCE.md) are translated to the
/// event format of DESIGN.md here; columns without metadata are <c>@1</c>, <c>@2</c>, ….
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class FixtureTailTests
{
    public static string FixtureRoot { get; } = Path.Combine(RepoPaths.Root, "tests", "fixtures", "binlog");

    public static IEnumerable<string> FixtureNames() =>
        Directory.GetDirectories(FixtureRoot).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var name in FixtureNames())
        {
            data.Add(name);
        }

        return data;
    }

    public static string BinlogFile(string fixture) =>
        Directory.GetFiles(Path.Combine(FixtureRoot, fixture)).Single(f => Path.GetFileName(f) != "expected.json");

    [Fact]
    public void The_fixture_set_holds_the_shared_files_and_the_locally_generated_mariadb_ones()
    {
        var names = FixtureNames().ToList();
        Assert.True(names.Count >= 14, string.Join(", ", names));
        Assert.Contains("mariadb1011-compressed", names);
        Assert.Contains("mariadb1011-fullmeta-set-geometry", names);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Tail_file_prints_every_row_of_the_fixture_with_its_expected_values(string fixture)
    {
        using var expected = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(FixtureRoot, fixture, "expected.json")));
        var rows = ExpectedRows(expected.RootElement).ToList();
        Assert.NotEmpty(rows);

        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--tables", "*.*", "--file", BinlogFile(fixture), "--name", "fx");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("", result.StandardError);
        var changes = TypeMatrixTests.Lines(result.StandardOutput);

        var c = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            var (table, kind, before, after) = rows[r];
            var at = $"{fixture} row {r + 1} ({kind} {table})";
            Assert.True(c < changes.Count, $"{at}: tail printed only {changes.Count} changes");
            var change = changes[c++];
            Assert.Equal("fx", change["source"]!.GetValue<string>());
            Assert.Equal(table, $"{change["schema"]}.{change["table"]}");
            Assert.Equal(Path.GetFileName(BinlogFile(fixture)), change["position"]!["file"]!.GetValue<string>());
            var action = change["action"]!.GetValue<string>();
            switch (kind)
            {
                case "write":
                    Assert.Equal("write", action);
                    AssertImage(null, change["before"], $"{at} before");
                    AssertImage(after, change["after"], $"{at} after");
                    break;
                case "delete":
                    Assert.Equal("delete", action);
                    AssertImage(before, change["before"], $"{at} before");
                    AssertImage(null, change["after"], $"{at} after");
                    break;
                default:
                    if (action == "delete")
                    {
                        // A pk-changing update: the delete of the old pk, then the write of the new one.
                        AssertImage(before, change["before"], $"{at} before");
                        var write = changes[c++];
                        Assert.Equal("write", write["action"]!.GetValue<string>());
                        AssertImage(after, write["after"], $"{at} after");
                    }
                    else
                    {
                        Assert.Equal("update", action);
                        AssertImage(before, change["before"], $"{at} before");
                        AssertImage(after, change["after"], $"{at} after");
                    }

                    break;
            }
        }

        Assert.Equal(changes.Count, c);
    }

    [Fact]
    public async Task A_checksum_mismatch_is_an_error_naming_file_and_position_after_the_rows_before_it()
    {
        // mariadb1011-fullmeta-set-geometry: WRITE_ROWS at 1829 (2 rows), UPDATE_ROWS at 2590 (532 bytes).
        var bytes = await File.ReadAllBytesAsync(BinlogFile("mariadb1011-fullmeta-set-geometry"));
        bytes[2590 + 40] ^= 0x01;
        var result = await TailCorruptedAsync(bytes);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(2, TypeMatrixTests.Lines(result.StandardOutput).Count);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("fails its CRC32 check", line);
        Assert.Contains("(binlog binlog.000001 at position 2590)", line);
    }

    [Fact]
    public async Task A_malformed_event_with_a_valid_checksum_is_an_error_naming_file_and_position_never_a_skipped_row()
    {
        // The WRITE_ROWS at 1829 declares its column count (13) right after table id (6) and flags (2).
        var bytes = await File.ReadAllBytesAsync(BinlogFile("mariadb1011-fullmeta-set-geometry"));
        const int Event = 1829;
        var size = BitConverter.ToInt32(bytes, Event + 9);
        Assert.Equal(13, bytes[Event + 19 + 8]);
        bytes[Event + 19 + 8] = 12;
        BitConverter.TryWriteBytes(bytes.AsSpan(Event + size - 4), Crc32(bytes.AsSpan(Event, size - 4)));
        var result = await TailCorruptedAsync(bytes);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("is malformed", line);
        Assert.Contains("12 columns but the TABLE_MAP of fx.shapes", line);
        Assert.Contains("(binlog binlog.000001 at position 1829)", line);
    }

    [Fact]
    public async Task A_file_cut_inside_an_event_is_an_error_naming_file_and_the_events_position()
    {
        var bytes = (await File.ReadAllBytesAsync(BinlogFile("mariadb1011-fullmeta-set-geometry")))[..2700];
        var result = await TailCorruptedAsync(bytes);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(2, TypeMatrixTests.Lines(result.StandardOutput).Count);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("ends inside a UpdateRowsV1 event (110 of 532 bytes)", line);
        Assert.Contains("(binlog binlog.000001 at position 2590)", line);
    }

    private static async Task<ReplicatorCli.Result> TailCorruptedAsync(byte[] bytes)
    {
        var directory = Directory.CreateTempSubdirectory("replicator-corrupt-");
        try
        {
            var path = Path.Combine(directory.FullName, "binlog.000001");
            await File.WriteAllBytesAsync(path, bytes);
            return await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--tables", "*.*", "--file", path);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>CRC-32 (IEEE 802.3, reflected, as zlib), the binlog event checksum.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFF_FFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320u : crc >> 1;
            }
        }

        return ~crc;
    }

    /// <summary>The rows of every rows event in file order, inner events of compressed payloads included.</summary>
    private static IEnumerable<(string Table, string Kind, JsonElement? Before, JsonElement? After)> ExpectedRows(JsonElement events)
    {
        foreach (var e in events.EnumerateArray())
        {
            if (e.TryGetProperty("inner_events", out var inner))
            {
                foreach (var row in ExpectedRows(inner))
                {
                    yield return row;
                }
            }

            if (!e.TryGetProperty("rows", out var rows))
            {
                continue;
            }

            var type = e.GetProperty("type").GetString()!;
            var kind = type.Contains("WRITE", StringComparison.Ordinal) ? "write" : type.Contains("DELETE", StringComparison.Ordinal) ? "delete" : "update";
            foreach (var row in rows.EnumerateArray())
            {
                yield return (
                    e.GetProperty("table").GetString()!,
                    kind,
                    row.TryGetProperty("before", out var b) && b.ValueKind != JsonValueKind.Null ? b : null,
                    row.TryGetProperty("after", out var a) && a.ValueKind != JsonValueKind.Null ? a : null);
            }
        }
    }

    private static void AssertImage(JsonElement? expected, JsonNode? actual, string at)
    {
        if (expected is not { } image)
        {
            Assert.True(actual is null, $"{at}: expected no image, got {actual?.ToJsonString()}");
            return;
        }

        var row = Assert.IsType<JsonObject>(actual);
        // Columns left out of a partial image are left out of the JSON too.
        Assert.Equal(image.EnumerateObject().Select(p => p.Name), row.Select(p => p.Key));
        foreach (var column in image.EnumerateObject())
        {
            Assert.True(Matches(column.Value, row[column.Name]), $"{at} {column.Name}: expected {column.Value.GetRawText()}, got {row[column.Name]?.ToJsonString() ?? "null"}");
        }
    }

    /// <summary>Whether a tail value is what an expected.json value (in its conventions) says.</summary>
    private static bool Matches(JsonElement expected, JsonNode? actual)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Null:
                return actual is null;
            case JsonValueKind.Number:
                return actual is JsonValue number && number.GetValueKind() == JsonValueKind.Number && SameNumber(expected.GetRawText(), number.ToJsonString());
            case JsonValueKind.String:
                return actual is JsonValue text && text.GetValueKind() == JsonValueKind.String && SameText(expected.GetString()!, text.GetValue<string>());
            case JsonValueKind.Object:
                return MatchesObject(expected, actual);
            default:
                return false;
        }
    }

    private static bool MatchesObject(JsonElement expected, JsonNode? actual)
    {
        if (expected.TryGetProperty("enum_index", out var index))
        {
            return expected.TryGetProperty("enum_str", out var name)
                ? actual?.GetValue<string>() == name.GetString()
                : actual is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<long>() == index.GetInt64();
        }

        if (expected.TryGetProperty("set_bits", out var bits))
        {
            return expected.TryGetProperty("set_str", out var names)
                ? actual?.GetValue<string>() == names.GetString()
                : actual is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<ulong>() == Convert.ToUInt64(bits.GetString()![2..], 2);
        }

        if (expected.TryGetProperty("bit", out var bit))
        {
            var text = bit.GetString()!;
            return actual is JsonValue v && v.GetValueKind() == JsonValueKind.Number
                && Convert.ToString(unchecked((long)v.GetValue<ulong>()), 2).PadLeft(text.Length, '0') == text;
        }

        if (expected.TryGetProperty("json", out var json))
        {
            return JsonNode.DeepEquals(JsonNode.Parse(json.GetRawText()), actual);
        }

        if (expected.TryGetProperty("geometry", out var geometry))
        {
            return actual?.GetValue<string>() == geometry.GetProperty("wkb").GetString();
        }

        if (expected.TryGetProperty("json_diff", out var diffs))
        {
            if (actual is not JsonArray array || array.Count != diffs.GetArrayLength())
            {
                return false;
            }

            for (var d = 0; d < array.Count; d++)
            {
                var diff = diffs[d];
                var node = array[d]!.AsObject();
                var sameValue = diff.TryGetProperty("value", out var value)
                    ? JsonNode.DeepEquals(JsonNode.Parse(value.GetRawText()), node["value"])
                    : !node.ContainsKey("value");
                if (node["op"]!.GetValue<string>() != diff.GetProperty("op").GetString()!.ToLowerInvariant()
                    || node["path"]!.GetValue<string>() != diff.GetProperty("path").GetString()
                    || !sameValue)
                {
                    return false;
                }
            }

            return true;
        }

        return false;
    }

    private static bool SameNumber(string expected, string actual)
    {
        if (expected == actual)
        {
            return true;
        }

        if (decimal.TryParse(expected, NumberStyles.Float, CultureInfo.InvariantCulture, out var ed) && decimal.TryParse(actual, NumberStyles.Float, CultureInfo.InvariantCulture, out var ad) && ed == ad)
        {
            return true;
        }

        var e = double.Parse(expected, CultureInfo.InvariantCulture);
        var a = double.Parse(actual, CultureInfo.InvariantCulture);
        // A FLOAT column: expected.json holds the float widened to double, tail its shortest float text.
        return e == a || (float)e == (float)a;
    }

    /// <summary>
    /// Temporals: expected.json writes <c>YYYY-MM-DD hh:mm:ss</c> and TIMESTAMP with <c> UTC</c>;
    /// the event format writes <c>T</c> and <c>Z</c> (the zero TIMESTAMP stays without <c>Z</c>).
    /// Bytes: expected.json shows one character a byte; the event format base64.
    /// </summary>
    private static bool SameText(string expected, string actual)
    {
        var temporal = Temporal().Match(expected);
        if (temporal.Success)
        {
            var utc = temporal.Groups["utc"].Success && !temporal.Groups["date"].Value.StartsWith("0000-00-00", StringComparison.Ordinal);
            return actual == $"{temporal.Groups["date"].Value}T{temporal.Groups["time"].Value}{(utc ? "Z" : "")}";
        }

        if (actual == expected)
        {
            return true;
        }

        try
        {
            return Encoding.Latin1.GetString(Convert.FromBase64String(actual)) == expected;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^(?<date>\d{4}-\d\d-\d\d) (?<time>\d\d:\d\d:\d\d(?:\.\d+)?)(?<utc> UTC)?$")]
    private static partial Regex Temporal();
}
