using Replicator.Engine.Capture;
using System.Text.RegularExpressions;
using Replicator.Binlog.Positions;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// DML logged as a statement (a session with binlog_format = STATEMENT, as bulk loads set) has no
/// row events: the table it changed stops loudly, naming itself, the position and the fix, while
/// the other tables go on; once resynced, resynced-through lets it go on.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class StatementDmlTests
{
    [Fact]
    public async Task A_statement_logged_insert_stops_its_table_loudly_and_resynced_through_lets_it_go_on()
    {
        var schema = Servers.UniqueSchema("it_stmt");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-stmt-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.a (id INT PRIMARY KEY, v INT); CREATE TABLE {schema}.b (id INT PRIMARY KEY, v INT)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7711));
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.a VALUES (1, 1)");
            Assert.True(await Eventually.UntilAsync(() => db.KeyExistsAsync($"{prefix}{schema}:a:1"), e => e, TimeSpan.FromSeconds(30)));

            // One session logs its DML as statements; the server's default stays ROW.
            await Servers.ExecuteAsync($"SET SESSION binlog_format = STATEMENT; INSERT INTO {schema}.a VALUES (2, 2); UPDATE {schema}.a SET v = 10 WHERE id = 1");
            var copiedAt = await BinlogEndAsync();
            await Servers.ExecuteAsync($"INSERT INTO {schema}.a VALUES (3, 3); INSERT INTO {schema}.b VALUES (1, 1)");

            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
            var b = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "b"), r => r.Matches && r.SourceRows == 1, TimeSpan.FromSeconds(30));
            Assert.True(b.Matches, b.ToString());
            var paused = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(10));
            Assert.Equal(CaptureState.TablePaused, paused.State);
            Assert.Contains($"table {schema}.a is paused: it needs a resync", paused.LastError);
            Assert.Contains("without row events", paused.LastError);
            Assert.Contains("binlog_format=ROW", paused.LastError);
            Assert.Contains($"INSERT INTO {schema}.a VALUES (2, 2)", paused.LastError);
            Assert.False(await db.KeyExistsAsync($"{prefix}{schema}:a:3"), "a row of the stopped table after the statement reached Redis");
            var statementEnd = AtOrAfter().Match(paused.LastError!).Groups["position"].Value;
            Assert.Contains("resynced-through", paused.LastError);
            Assert.True(statementEnd.Length > 0 && copiedAt >= Position(statementEnd), $"the message names {statementEnd}, after the copy at {copiedAt}");

            await Task.Delay(600);
            var held = (await node.GetCaptureStatusAsync("it")).PersistedOffset!;
            Assert.True(held.Position < Position(statementEnd), $"the offset {held} passed the statement ending at {statementEnd}");
            await node.StopAsync();

            // The operator resyncs a as of copiedAt (here: by hand, the two rows the statements wrote) and says so.
            await db.HashSetAsync($"{prefix}{schema}:a:2", [new("id", "2"), new("v", "2")]);
            await db.HashSetAsync($"{prefix}{schema}:a:1", "v", "10");
            node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7711, $"replicator.sources.it.resynced-through = \"{copiedAt}\""));
            var a = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "a"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(a.Matches, a + "\n" + string.Join("\n", a.Examples));
            Assert.Null((await node.GetCaptureStatusAsync("it")).LastError);
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_truncate_of_a_captured_table_stops_it_loudly_until_its_keys_are_cleared_and_resynced_through_is_set()
    {
        var schema = Servers.UniqueSchema("it_trunc");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-trunc-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7712));
        using var redis = Servers.ConnectRedis();
        var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t SELECT seq, seq FROM {schema}.seq_1_to_20");
            Assert.True((await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches && r.SourceRows == 20, TimeSpan.FromSeconds(30))).Matches);

            await Servers.ExecuteAsync($"TRUNCATE TABLE {schema}.t");
            var copiedAt = await BinlogEndAsync();
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (100, 100)");
            var paused = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(10));
            Assert.Equal(CaptureState.TablePaused, paused.State);
            Assert.Contains($"table {schema}.t is paused: it needs a resync: TRUNCATE emptied it", paused.LastError);
            Assert.Contains($"{prefix}{schema}:t:*", paused.LastError!.Replace("<key-prefix>", prefix, StringComparison.Ordinal));
            await node.StopAsync();

            // The operator clears the table's keys, as the message says, and restarts past the TRUNCATE.
            var server = redis.GetServers().Single();
            foreach (var key in server.Keys(pattern: $"{prefix}{schema}:t:*"))
            {
                await redis.GetDatabase().KeyDeleteAsync(key);
            }

            node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7712, $"replicator.sources.it.resynced-through = \"{copiedAt}\""));
            var result = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
            Assert.Equal(1, result.SourceRows);
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [GeneratedRegex(@"at or after (?<position>\S+:\d+)")]
    private static partial Regex AtOrAfter();

    private static BinlogPosition Position(string text) => new(text[..text.LastIndexOf(':')], long.Parse(text[(text.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<BinlogPosition> BinlogEndAsync()
    {
        await using var connection = await Servers.OpenAdminAsync();
        await using var command = new MySqlConnector.MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return new BinlogPosition(reader.GetString(0), reader.GetInt64(1));
    }
}
