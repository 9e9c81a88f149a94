using MySqlConnector;
using Replicator.Binlog.Positions;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// XA transactions on the real MariaDB 10.11: XA PREPARE is logged as its own event group, and the
/// XA COMMIT or XA ROLLBACK later as another. Only what is committed reaches Redis, and the offset
/// goes on to the end of the binlog.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class XaTransactionTests
{
    [Fact]
    public async Task A_rolled_back_XA_never_reaches_Redis_a_committed_one_does_only_at_its_commit_and_the_offset_reaches_the_end()
    {
        var schema = Servers.UniqueSchema("it_xa");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-xa-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7701));
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        try
        {
            await PrepareAsync(schema + "-rb", $"INSERT INTO {schema}.t VALUES (1, 1)");
            await Servers.ExecuteAsync($"XA ROLLBACK '{schema}-rb'");
            await PrepareAsync(schema + "-ok", $"INSERT INTO {schema}.t VALUES (2, 2)");
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (3, 3)");

            // The plain insert after the prepare is applied; the prepared row waits for its commit.
            Assert.True(await Eventually.UntilAsync(() => db.KeyExistsAsync($"{prefix}{schema}:t:3"), e => e, TimeSpan.FromSeconds(30)), "the row inserted after the prepare reached Redis");
            await Task.Delay(500);
            Assert.False(await db.KeyExistsAsync($"{prefix}{schema}:t:2"), "a prepared, uncommitted XA's row is in Redis");

            await Servers.ExecuteAsync($"XA COMMIT '{schema}-ok'");
            await Servers.ExecuteAsync($"XA START '{schema}-one'; INSERT INTO {schema}.t VALUES (4, 4); XA END '{schema}-one'; XA COMMIT '{schema}-one' ONE PHASE");
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
            var result = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
            Assert.Equal(3, result.SourceRows);
            Assert.False(await db.KeyExistsAsync($"{prefix}{schema}:t:1"), "the rolled-back XA's row is in Redis");

            var end = await BinlogEndAsync();
            var status = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.PersistedOffset?.Position == end, TimeSpan.FromSeconds(10));
            Assert.Equal(end, status.PersistedOffset?.Position);
        }
        finally
        {
            await node.StopAsync();
            await RollBackLeftoversAsync(schema);
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_node_stopped_between_an_XA_PREPARE_and_its_COMMIT_applies_the_prepared_rows_after_its_restart()
    {
        var schema = Servers.UniqueSchema("it_xa_restart");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-xa-restart-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT)");
        var config = TestNode.Config(data, schema, prefix, 7702);
        var node = await TestNode.StartAsync(config);
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        try
        {
            var beforePrepare = await BinlogEndAsync();
            await PrepareAsync(schema + "-held", $"INSERT INTO {schema}.t VALUES (1, 1), (2, 2)");
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (3, 3)");
            Assert.True(await Eventually.UntilAsync(() => db.KeyExistsAsync($"{prefix}{schema}:t:3"), e => e, TimeSpan.FromSeconds(30)));

            // Once the row after the prepare is finished and an offset was persisted after that
            // (nothing outstanding, the persisted offset is the safe one), the saved offset is what
            // a restart would use: it may not pass the prepare while its outcome is unknown.
            var held = await Eventually.UntilAsync(
                () => node.GetCaptureStatusAsync("it"),
                s => s.Outstanding == 0 && s.PersistedOffset is { } saved && s.CurrentOffset is { } safe && saved.Position == safe.Position && saved.SkipRows == safe.SkipRows,
                TimeSpan.FromSeconds(30));
            await node.StopAsync();
            Assert.True(held.Outstanding == 0 && held.PersistedOffset is not null && held.PersistedOffset.Position == held.CurrentOffset?.Position, $"no offset was persisted after the row that follows the prepare was finished: {held}");
            Assert.True(held.PersistedOffset!.Position <= beforePrepare, $"the offset {held.PersistedOffset} passed the pending XA PREPARE at {beforePrepare}");

            await Servers.ExecuteAsync($"XA COMMIT '{schema}-held'");
            node = await TestNode.StartAsync(config);
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
            var result = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
            Assert.Equal(3, result.SourceRows);
        }
        finally
        {
            await node.StopAsync();
            await RollBackLeftoversAsync(schema);
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task An_XA_whose_prepared_rows_pass_the_bound_is_read_again_at_its_commit_and_reaches_Redis_whole()
    {
        var schema = Servers.UniqueSchema("it_xa_big");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-xa-big-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7703, "replicator.capture.max-held-xa-changes = 10"));
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        try
        {
            await PrepareAsync(schema + "-big", $"INSERT INTO {schema}.t SELECT seq, seq FROM {schema}.seq_1_to_50");
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (1000, 1)");
            Assert.True(await Eventually.UntilAsync(() => db.KeyExistsAsync($"{prefix}{schema}:t:1000"), e => e, TimeSpan.FromSeconds(30)), "the row inserted after the prepare reached Redis");
            Assert.False(await db.KeyExistsAsync($"{prefix}{schema}:t:1"), "a prepared, uncommitted XA's row is in Redis");

            // Its 50 rows were more than the 10 that may be held: at its commit the capture reads them again.
            await Servers.ExecuteAsync($"XA COMMIT '{schema}-big'");
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
            var result = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(60));
            Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
            Assert.Equal(51, result.SourceRows);

            var end = await BinlogEndAsync();
            var status = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.PersistedOffset?.Position == end, TimeSpan.FromSeconds(30));
            Assert.Equal(end, status.PersistedOffset?.Position);
        }
        finally
        {
            await node.StopAsync();
            await RollBackLeftoversAsync(schema);
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>
    /// Prepares an XA on a connection of its own, outside the pool: MariaDB detaches a prepared XA
    /// when its connection closes, and only then can another connection commit or roll it back.
    /// </summary>
    private static async Task PrepareAsync(string xid, string statement)
    {
        await using var connection = new MySqlConnection(Servers.MariaDbAdmin + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"XA START '{xid}'; {statement}; XA END '{xid}'; XA PREPARE '{xid}'", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A failed test must not leave a prepared XA behind: it holds its locks across restarts of the server.</summary>
    private static async Task RollBackLeftoversAsync(string schema)
    {
        var leftovers = new List<string>();
        await using var connection = await Servers.OpenAdminAsync();
        await using (var recover = new MySqlCommand("XA RECOVER", connection))
        await using (var reader = await recover.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var xid = System.Text.Encoding.UTF8.GetString((byte[])reader.GetValue(3));
                if (xid.StartsWith(schema, StringComparison.Ordinal))
                {
                    leftovers.Add(xid);
                }
            }
        }

        foreach (var xid in leftovers)
        {
            await using var rollback = new MySqlCommand($"XA ROLLBACK '{xid}'", connection);
            await rollback.ExecuteNonQueryAsync();
        }
    }

    private static async Task<BinlogPosition> BinlogEndAsync()
    {
        await using var connection = await Servers.OpenAdminAsync();
        await using var command = new MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return new BinlogPosition(reader.GetString(0), reader.GetInt64(1));
    }
}
