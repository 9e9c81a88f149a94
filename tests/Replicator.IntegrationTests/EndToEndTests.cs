using System.Diagnostics;
using System.Text;
using MySqlConnector;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Replicator.IntegrationTests;

[Collection(ServerCollection.Name)]
public sealed class EndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Ten_thousand_changes_reach_Redis_exactly_and_a_restarted_node_resumes_from_its_offset()
    {
        var schema = Servers.UniqueSchema("it_e2e");
        var prefix = $"{schema}:";
        var data = Directory.CreateTempSubdirectory("replicator-e2e-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, payload VARCHAR(64), ver BIGINT NOT NULL)");
        using var redis = Servers.ConnectRedis();
        var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
        var config = TestNode.Config(data, schema, prefix, serverId: 7101);

        var node = await TestNode.StartAsync(config);
        var clock = Stopwatch.StartNew();
        var changes = await Workload.RunAsync(schema, seed: 42);
        Assert.Equal(10_000, changes);
        var result = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(120));
        Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
        output.WriteLine($"first run: {changes} changes converged in {clock.Elapsed.TotalSeconds:0.0}s; {node.Metrics.Definition("cache").Applied} applied, {node.Metrics.Definition("cache").Coalesced} coalesced");
        var firstCaptured = node.Metrics.Source("it").Captured;
        Assert.True(firstCaptured >= 10_500, $"captured {firstCaptured}: pk changes count twice, so at least 10,500 changes");
        var firstOffset = (await node.GetCaptureStatusAsync("it")).PersistedOffset;
        await node.StopAsync();

        // While the node is down.
        var more = await Workload.MoreAsync(schema, seed: 7);
        Assert.Equal(1_000, more);

        var again = await ReplicatorNodeStart(config);
        try
        {
            var second = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(120));
            Assert.True(second.Matches, second + "\n" + string.Join("\n", second.Examples));
            var status = await again.GetCaptureStatusAsync("it");
            var captured = again.Metrics.Source("it").Captured;
            output.WriteLine($"second run: resumed at {firstOffset}, captured {captured}, applied {again.Metrics.Definition("cache").Applied}");
            Assert.InRange(captured, 1_000, 1_100);
            Assert.True(status.PersistedOffset!.Position > firstOffset!.Position);
        }
        finally
        {
            await again.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData("pk")]
    [InlineData("every-change")]
    public async Task Other_dedupe_modes_converge_too(string mode)
    {
        var schema = Servers.UniqueSchema("it_mode");
        var prefix = $"{schema}:";
        var data = Directory.CreateTempSubdirectory("replicator-mode-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, payload VARCHAR(64), ver BIGINT NOT NULL)");
        using var redis = Servers.ConnectRedis();
        var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7111, $"replicator.definitions.cache.mode = {mode}"));
        try
        {
            var changes = await Workload.MoreAsync(schema, seed: 3);
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t (id, v, payload, ver) SELECT seq, seq, 'x', 1 FROM {schema}.seq_1_to_300; UPDATE {schema}.t SET v = v + 1, ver = ver + 1 WHERE id <= 100; UPDATE {schema}.t SET v = v + 1, ver = ver + 1 WHERE id <= 50; DELETE FROM {schema}.t WHERE id > 250");
            var result = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(60));
            Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
            var counters = node.Metrics.Definition("cache");
            output.WriteLine($"{mode}: {counters.Received} received, {counters.Applied} applied, {counters.Coalesced} coalesced");
            if (mode == "every-change")
            {
                Assert.Equal(0, counters.Coalesced);
            }
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    private static Task<Engine.ReplicatorNode> ReplicatorNodeStart(Akka.Configuration.Config config) => TestNode.StartAsync(config);

    /// <summary>The seeded workload: inserts in 50-row transactions, updates of a hot set, deletes, re-inserts and pk changes.</summary>
    private static class Workload
    {
        public static async Task<int> RunAsync(string schema, int seed)
        {
            var random = new Random(seed);
            await using var connection = await Servers.OpenAdminAsync();
            var changes = 0;

            // 4,000 inserts, 50 per transaction.
            for (var tx = 0; tx < 80; tx++)
            {
                var sql = new StringBuilder($"INSERT INTO {schema}.t (id, v, payload, ver) VALUES ");
                for (var i = 0; i < 50; i++)
                {
                    var id = tx * 50 + i + 1;
                    sql.Append(i == 0 ? "" : ",").Append($"({id}, {random.Next()}, 'p-{id}', 1)");
                }

                changes += await ExecuteAsync(connection, sql.ToString());
            }

            // 4,000 single-row updates of a 200-row hot set, 20 statements per transaction.
            for (var tx = 0; tx < 200; tx++)
            {
                await using var transaction = await connection.BeginTransactionAsync();
                for (var i = 0; i < 20; i++)
                {
                    var id = 1 + random.Next(200);
                    changes += await ExecuteAsync(connection, $"UPDATE {schema}.t SET v = {random.Next()}, payload = 'u-{tx}-{i}', ver = ver + 1 WHERE id = {id}", transaction);
                }

                await transaction.CommitAsync();
            }

            // 1,000 deletes, then 500 of them inserted again.
            changes += await ExecuteAsync(connection, $"DELETE FROM {schema}.t WHERE id BETWEEN 3001 AND 4000");
            changes += await ExecuteAsync(connection, $"INSERT INTO {schema}.t (id, v, payload, ver) SELECT seq, seq, 'again', 1 FROM {schema}.seq_3001_to_3500");

            // 500 pk changes.
            changes += await ExecuteAsync(connection, $"UPDATE {schema}.t SET id = id + 1000000, ver = ver + 1 WHERE id BETWEEN 2001 AND 2500");
            return changes;
        }

        public static async Task<int> MoreAsync(string schema, int seed)
        {
            var random = new Random(seed);
            await using var connection = await Servers.OpenAdminAsync();
            var changes = 0;
            for (var i = 0; i < 500; i++)
            {
                changes += await ExecuteAsync(connection, $"UPDATE {schema}.t SET v = {random.Next()}, ver = ver + 1 WHERE id = {1 + random.Next(200)}");
            }

            changes += await ExecuteAsync(connection, $"INSERT INTO {schema}.t (id, v, payload, ver) SELECT seq, seq, 'late', 1 FROM {schema}.seq_5001_to_5300");
            changes += await ExecuteAsync(connection, $"DELETE FROM {schema}.t WHERE id BETWEEN 1001 AND 1200");
            return changes;
        }

        private static async Task<int> ExecuteAsync(MySqlConnection connection, string sql, MySqlTransaction? transaction = null)
        {
            await using var command = new MySqlCommand(sql, connection, transaction);
            return await command.ExecuteNonQueryAsync();
        }
    }
}
