using Replicator.Engine.Capture;
using Replicator.Binlog.Positions;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Without binlog_row_metadata = FULL the binlog carries no column names: they come from
/// information_schema as the table is now. A capture that replays rows written before a DDL that
/// keeps the table's shape (two columns of one type swapped by renaming) must not label them with
/// today's names: it stops the table loudly, and resynced-through lets it go on. With FULL the
/// names come from each event and the same replay is right.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RowMetadataReplayTests
{
    [Fact]
    public async Task Without_full_metadata_a_replay_across_a_column_swap_stops_the_table_and_nothing_mislabeled_reaches_the_sink()
    {
        var schema = Servers.UniqueSchema("it_swap");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-swap-").FullName;
        await Servers.ExecuteAsync($"SET GLOBAL binlog_row_metadata = MINIMAL; CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, a INT, b INT)");
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7731));
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (1, 10, 20)");
            Assert.True(await Eventually.UntilAsync(() => db.KeyExistsAsync($"{prefix}{schema}:t:1"), e => e, TimeSpan.FromSeconds(30)));
            await node.StopAsync();

            // Rows written while the node is down, then a DDL that swaps a and b and keeps the shape.
            // A rotation between the rows and the DDL: the scan for DDL crosses files.
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (2, 11, 21); UPDATE {schema}.t SET a = 12 WHERE id = 1; FLUSH BINARY LOGS");
            var ddlAt = await BinlogEndAsync();
            await Servers.ExecuteAsync($"ALTER TABLE {schema}.t RENAME COLUMN a TO tmp; ALTER TABLE {schema}.t RENAME COLUMN b TO a; ALTER TABLE {schema}.t RENAME COLUMN tmp TO b");
            var copiedAt = await BinlogEndAsync();
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t (id, a, b) VALUES (3, 13, 23)");

            // It starts paused, not reading, so StartAsync's wait for "reading" does not apply.
            node = await Replicator.Engine.ReplicatorNode.StartAsync(TestNode.Config(data, schema, prefix, 7731));
            var paused = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(20));

            // What a mislabeling replay would have written: row 2 with a = 21, b = 11.
            var row2 = await db.HashGetAllAsync($"{prefix}{schema}:t:2");
            Assert.True(row2.Length == 0, "a row written before the column swap reached Redis: " + string.Join(", ", row2.Select(e => $"{e.Name}={e.Value}")));
            Assert.Equal("10", (string?)await db.HashGetAsync($"{prefix}{schema}:t:1", "a"));
            Assert.False(await db.KeyExistsAsync($"{prefix}{schema}:t:3"), "a row of the stopped table reached Redis");

            Assert.Equal(CaptureState.TablePaused, paused.State);
            Assert.Contains($"table {schema}.t is paused", paused.LastError);
            Assert.Contains("binlog_row_metadata", paused.LastError);
            Assert.Contains("binlog_row_metadata=FULL", paused.LastError);
            Assert.Contains($"ALTER TABLE {schema}.t RENAME COLUMN a TO tmp", paused.LastError);
            var named = System.Text.RegularExpressions.Regex.Matches(paused.LastError!, @"(?<file>[\w.-]+\.\d+):(?<pos>\d+)")
                .Select(m => new BinlogPosition(m.Groups["file"].Value, long.Parse(m.Groups["pos"].Value, System.Globalization.CultureInfo.InvariantCulture)));
            Assert.True(named.Any(p => p >= ddlAt && p < copiedAt), $"the message names no position of the DDL (between {ddlAt} and {copiedAt}): {paused.LastError}");
            Assert.Contains("resynced-through", paused.LastError);
            await Task.Delay(600);
            Assert.True((await node.GetCaptureStatusAsync("it")).PersistedOffset!.Position < ddlAt, "the offset passed rows of the stopped table");
            await node.StopAsync();

            // The operator resyncs t as of copiedAt (here by hand: the rows as the source has them) and says so.
            await db.HashSetAsync($"{prefix}{schema}:t:1", [new("id", "1"), new("b", "12"), new("a", "20")]);
            await db.HashSetAsync($"{prefix}{schema}:t:2", [new("id", "2"), new("b", "11"), new("a", "21")]);
            node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7731, $"replicator.sources.it.resynced-through = \"{copiedAt}\""));
            var result = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches && r.SourceRows == 3, TimeSpan.FromSeconds(30));
            Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
            Assert.Null((await node.GetCaptureStatusAsync("it")).LastError);
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"SET GLOBAL binlog_row_metadata = FULL; DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task With_full_metadata_a_replay_across_a_column_swap_labels_every_row_as_it_was_written()
    {
        var schema = Servers.UniqueSchema("it_swapf");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-swapf-").FullName;
        await Servers.ExecuteAsync($"SET GLOBAL binlog_row_metadata = FULL; CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, a INT, b INT)");
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7732));
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (1, 10, 20)");
            Assert.True(await Eventually.UntilAsync(() => db.KeyExistsAsync($"{prefix}{schema}:t:1"), e => e, TimeSpan.FromSeconds(30)));
            await node.StopAsync();

            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (2, 11, 21); UPDATE {schema}.t SET a = 12 WHERE id = 1");
            await Servers.ExecuteAsync($"ALTER TABLE {schema}.t RENAME COLUMN a TO tmp; ALTER TABLE {schema}.t RENAME COLUMN b TO a; ALTER TABLE {schema}.t RENAME COLUMN tmp TO b");
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t (id, a, b) VALUES (3, 13, 23)");

            node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7732));

            // Each row is labelled with the names its event carries: rows 1 and 2 as written before the swap.
            Assert.True(await Eventually.UntilAsync(() => db.KeyExistsAsync($"{prefix}{schema}:t:3"), e => e, TimeSpan.FromSeconds(30)));
            Assert.Equal("a=12,b=20,id=1", await RowAsync(db, $"{prefix}{schema}:t:1"));
            Assert.Equal("a=11,b=21,id=2", await RowAsync(db, $"{prefix}{schema}:t:2"));
            Assert.Equal("a=13,b=23,id=3", await RowAsync(db, $"{prefix}{schema}:t:3"));
            Assert.Null((await node.GetCaptureStatusAsync("it")).LastError);
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<string> RowAsync(StackExchange.Redis.IDatabase db, string key) =>
        string.Join(",", (await db.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}").Where(f => !f.StartsWith('_')).Order(StringComparer.Ordinal));

    private static async Task<BinlogPosition> BinlogEndAsync()
    {
        await using var connection = await Servers.OpenAdminAsync();
        await using var command = new MySqlConnector.MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return new BinlogPosition(reader.GetString(0), reader.GetInt64(1));
    }
}
