using System.Text.Json;
using System.Text.Json.Nodes;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

[Collection(ServerCollection.Name)]
public sealed class TailTests
{
    [Fact]
    public async Task Tail_from_start_until_now_prints_the_expected_json_for_a_fixed_script()
    {
        var s = Servers.UniqueSchema("it_tail");
        await Servers.ExecuteAsync($"""
            CREATE DATABASE {s};
            CREATE TABLE {s}.items (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(6,2), qty INT UNSIGNED NOT NULL, at DATETIME(3) NULL);
            INSERT INTO {s}.items VALUES (1, 'apple', 1.50, 10, '2026-01-02 03:04:05.678'), (2, 'pear', NULL, 0, NULL);
            UPDATE {s}.items SET qty = qty + 5, price = 1.75 WHERE id = 1;
            UPDATE {s}.items SET id = 20 WHERE id = 2;
            DELETE FROM {s}.items WHERE id = 1;
            """);
        try
        {
            var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(2), "tail", "--source", Servers.MariaDbCdc, "--tables", $"{s}.*", "--from-start", "--until-now", "--name", "it");
            Assert.True(result.ExitCode == 0, result.StandardError);
            var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string[] expected =
            [
                """{"source":"it","schema":"S","table":"items","action":"write","topic":"items_write","pk":{"id":1},"before":null,"after":{"id":1,"name":"apple","price":"1.50","qty":10,"at":"2026-01-02T03:04:05.678"}}""",
                """{"source":"it","schema":"S","table":"items","action":"write","topic":"items_write","pk":{"id":2},"before":null,"after":{"id":2,"name":"pear","price":null,"qty":0,"at":null}}""",
                """{"source":"it","schema":"S","table":"items","action":"update","topic":"items_update","pk":{"id":1},"before":{"id":1,"name":"apple","price":"1.50","qty":10,"at":"2026-01-02T03:04:05.678"},"after":{"id":1,"name":"apple","price":"1.75","qty":15,"at":"2026-01-02T03:04:05.678"}}""",
                """{"source":"it","schema":"S","table":"items","action":"delete","topic":"items_delete","pk":{"id":2},"before":{"id":2,"name":"pear","price":null,"qty":0,"at":null},"after":null}""",
                """{"source":"it","schema":"S","table":"items","action":"write","topic":"items_write","pk":{"id":20},"before":null,"after":{"id":20,"name":"pear","price":null,"qty":0,"at":null}}""",
                """{"source":"it","schema":"S","table":"items","action":"delete","topic":"items_delete","pk":{"id":1},"before":{"id":1,"name":"apple","price":"1.75","qty":15,"at":"2026-01-02T03:04:05.678"},"after":null}""",
            ];
            Assert.Equal(expected, lines.Select(l => Normalize(l, s)).ToArray());
        }
        finally
        {
            await Servers.ExecuteAsync($"DROP DATABASE {s}");
        }
    }

    /// <summary>Checks the parts that differ per run (position, commit time) for their shape, then drops them.</summary>
    private static string Normalize(string line, string schema)
    {
        var node = JsonNode.Parse(line)!.AsObject();
        var position = node["position"]!.AsObject();
        Assert.Matches(@"^mariadb-bin\.\d{6}$", position["file"]!.GetValue<string>());
        Assert.True(position["pos"]!.GetValue<long>() > 4);
        Assert.Matches(@"^\d+-\d+-\d+$", position["gtid"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$", node["commit_time"]!.GetValue<string>());
        Assert.Equal(schema, node["schema"]!.GetValue<string>());
        node.Remove("position");
        node.Remove("commit_time");
        node["schema"] = "S";
        return node.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}
