using Replicator.Binlog.Positions;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// A long sink outage (here: the job's Redis user loses the right to run scripts, as when its
/// credentials are revoked) with few attempts per pk: nothing may be dead-lettered, the offset must
/// stay before the changes that failed, and everything converges once the sink is back.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class SinkOutageTests
{
    [Fact]
    public async Task A_sink_outage_parks_nothing_holds_the_offset_and_backpressures_the_capture_until_the_sink_is_back()
    {
        var schema = Servers.UniqueSchema("it_outage");
        var prefix = schema + ":";
        var user = schema + "_job";
        var password = Guid.NewGuid().ToString("N");
        var data = Directory.CreateTempSubdirectory("replicator-outage-").FullName;
        using var admin = Servers.ConnectRedis();
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        await server.ExecuteAsync("ACL", "SETUSER", user, "on", ">" + password, "~*", "&*", "+@all");
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
        var redis = $"{Servers.Redis},user={user},password={password}";
        var config = TestNode.Config(data, schema, prefix, 7401, $$"""
            replicator.capture.max-in-flight = 100
            replicator.definitions.cache {
              buckets = 4
              retry { initial = 100ms, max = 400ms, max-attempts = 2, jitter = 0 }
              job.redis = {{System.Text.Json.JsonSerializer.Serialize(redis)}}
            }
            """);
        var node = await TestNode.StartAsync(config);
        try
        {
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, admin, prefix);
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t SELECT seq, seq FROM {schema}.seq_1_to_20");
            var healthy = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(healthy.Matches, healthy.ToString());
            var beforeOutage = await SourceEndAsync();
            await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.PersistedOffset is { } o && o.Position >= beforeOutage, TimeSpan.FromSeconds(10));

            // The job's user may no longer run scripts: every write fails.
            await server.ExecuteAsync("ACL", "SETUSER", user, "-@scripting");
            for (var round = 0; round < 6; round++)
            {
                await Servers.ExecuteAsync($"UPDATE {schema}.t SET v = v + 1; INSERT INTO {schema}.t SELECT seq + {100 + (round * 50)}, seq FROM {schema}.seq_1_to_50");
            }

            var end = await SourceEndAsync();

            // With 2 attempts per pk, every held pk would have been parked by the time the failed
            // attempts outnumber three per change outstanding (each held pk's changes are among them,
            // and the pks of a bucket are tried together): wait for that, and for the sink to count as down.
            var sink = node.Metrics.Definition("cache").Sink;
            var failuresBefore = node.Metrics.Definition("cache").Failures;
            var held = await Eventually.UntilAsync(
                () => node.GetCaptureStatusAsync("it"),
                s => sink.IsDown && s.Outstanding > 0 && node.Metrics.Definition("cache").Failures - failuresBefore >= 3 * s.Outstanding,
                TimeSpan.FromSeconds(60));
            var failed = node.Metrics.Definition("cache").Failures - failuresBefore;
            Assert.True(sink.IsDown && failed >= 3 * held.Outstanding, $"after 60 s: sink down {sink.IsDown}, {failed} failed attempts for {held.Outstanding} changes outstanding");
            Assert.Empty((await node.ListDeadLettersAsync("cache")).Entries);
            Assert.True(held.PersistedOffset!.Position <= beforeOutage, $"the offset {held.PersistedOffset} moved past the failed changes (which begin at {beforeOutage})");
            Assert.InRange(held.Outstanding, 1, 100);
            // 1,170 changes were written; the capture read no more than max-in-flight of them.
            Assert.True(held.ChangesCaptured <= 20 + 100, $"the capture read {held.ChangesCaptured} changes though none was finished (max-in-flight 100)");
            Assert.Contains("NOPERM", sink.Error);

            // The sink is back: everything converges, still without a dead letter.
            await server.ExecuteAsync("ACL", "SETUSER", user, "+@all");
            var converged = await Eventually.UntilAsync(() => checker.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1));
            Assert.True(converged.Matches, converged.ToString());
            Assert.Equal(320, converged.SourceRows);
            var done = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.PersistedOffset is { } o && o.Position >= end, TimeSpan.FromSeconds(30));
            Assert.True(done.PersistedOffset!.Position >= end, $"offset {done.PersistedOffset} did not pass {end}");
            Assert.Empty((await node.ListDeadLettersAsync("cache")).Entries);
            Assert.False(sink.IsDown);
        }
        finally
        {
            await node.StopAsync();
            await server.ExecuteAsync("ACL", "DELUSER", user);
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Many_rows_the_sink_refuses_with_nothing_else_flowing_are_dead_lettered_not_taken_for_an_outage()
    {
        var schema = Servers.UniqueSchema("it_poisons");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-poisons-").FullName;
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        var poison = Enumerable.Range(1, 6).ToList();
        foreach (var pk in poison)
        {
            // Not the job's (no version key) and of another type: every write of the pk meets WRONGTYPE.
            await db.StringSetAsync($"{prefix}{schema}:t:{pk}", "str");
        }

        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, 7402, """
            replicator.definitions.cache {
              buckets = 2
              retry { initial = 100ms, max = 400ms, max-attempts = 3, jitter = 0 }
            }
            """));
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t SELECT seq, seq FROM {schema}.seq_1_to_6");
            var letters = await Eventually.UntilAsync(() => node.ListDeadLettersAsync("cache"), l => l.Entries.Count == poison.Count, TimeSpan.FromSeconds(30));
            Assert.Equal(poison.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)), letters.Entries.Select(l => l.Change.Key.Canonical).Order());
            Assert.All(letters.Entries, l => Assert.Contains("WRONGTYPE", l.Error));
            Assert.False(node.Metrics.Definition("cache").Sink.IsDown);
        }
        finally
        {
            await node.StopAsync();
            await db.KeyDeleteAsync(poison.Select(pk => (StackExchange.Redis.RedisKey)$"{prefix}{schema}:t:{pk}").ToArray());
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<BinlogPosition> SourceEndAsync()
    {
        await using var connection = await Servers.OpenAdminAsync();
        await using var command = new MySqlConnector.MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new BinlogPosition(reader.GetString(0), reader.GetInt64(1));
    }
}
