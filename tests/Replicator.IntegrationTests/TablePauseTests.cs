using Replicator.Engine.Capture;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

[Collection(ServerCollection.Name)]
public sealed class TablePauseTests
{
    [Fact]
    public async Task A_captured_table_without_a_key_is_refused_at_start_with_its_name()
    {
        var schema = Servers.UniqueSchema("it_keyless");
        var data = Directory.CreateTempSubdirectory("replicator-keyless-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.events (at DATETIME, what VARCHAR(20))");
        var node = await Engine.ReplicatorNode.StartAsync(TestNode.Config(data, schema, schema + ":", 7501));
        try
        {
            var status = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(30));
            Assert.Equal(CaptureState.BackingOff, status.State);
            Assert.Contains($"without a primary key: {schema}.events", status.LastError);
            Assert.Contains("key-columns", status.LastError);
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_table_whose_rows_cannot_be_mapped_is_paused_while_the_others_go_on_and_the_offset_holds()
    {
        var schema = Servers.UniqueSchema("it_pause");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-pause-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.a (id INT PRIMARY KEY, v INT); CREATE TABLE {schema}.b (id INT PRIMARY KEY, v INT)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7502));
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.a VALUES (1, 1); INSERT INTO {schema}.b VALUES (1, 1)");
            var before = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.ChangesCaptured == 2 && s.Outstanding == 0, TimeSpan.FromSeconds(30));
            await Task.Delay(600);
            before = await node.GetCaptureStatusAsync("it");

            // The key goes away under the running capture: a's later rows cannot be routed by pk.
            await Servers.ExecuteAsync($"ALTER TABLE {schema}.a DROP PRIMARY KEY; INSERT INTO {schema}.a VALUES (2, 2); INSERT INTO {schema}.b VALUES (2, 2), (3, 3)");
            using var redis = Servers.ConnectRedis();
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
            var b = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "b"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(b.Matches, b.ToString());

            var paused = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(10));
            Assert.Equal(CaptureState.TablePaused, paused.State);
            Assert.Contains($"table {schema}.a is paused", paused.LastError);
            // The key change itself stops the table: the offset stays at the ALTER, where the inserts' end left it.
            Assert.Contains("primary key changed", paused.LastError);
            await Task.Delay(600);
            var held = await node.GetCaptureStatusAsync("it");
            Assert.True(held.PersistedOffset!.Position >= before.PersistedOffset!.Position, "the offset moved up to the stop");
            held = await node.GetCaptureStatusAsync("it");

            // b keeps flowing, but the offset stays before a's unmapped row.
            await Servers.ExecuteAsync($"INSERT INTO {schema}.b VALUES (4, 4)");
            var again = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "b"), r => r.Matches && r.SourceRows == 4, TimeSpan.FromSeconds(30));
            Assert.True(again.Matches, again.ToString());
            await Task.Delay(500);
            Assert.Equal(held.PersistedOffset, (await node.GetCaptureStatusAsync("it")).PersistedOffset);
            Assert.False(await redis.GetDatabase().KeyExistsAsync($"{prefix}{schema}:a:2"));

            // The gauges say so: one paused table, and the oldest unfinished change is the one it holds back.
            var counters = node.Metrics.Source("it");
            var gauged = await Eventually.UntilAsync(() => Task.FromResult(counters.PausedTables), n => n == 1, TimeSpan.FromSeconds(5));
            Assert.Equal(1, gauged);
            Assert.NotNull(counters.OldestUnfinishedUtc);
            Assert.True(counters.OldestUnfinishedUtc <= DateTime.UtcNow, $"the oldest unfinished change is dated {counters.OldestUnfinishedUtc}");
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }
}
