using Replicator.Binlog.Positions;
using Replicator.Engine.Jobs;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.Engine.Replication;
using Replicator.IntegrationTests.Infrastructure;
using Replicator.Jobs;

namespace Replicator.IntegrationTests;

/// <summary>A job that fails every change of the pks it is told to, and applies the others through the Redis job.</summary>
public sealed class PoisonedRedisJob(JobContext context) : IReplicationJob
{
    public static readonly HashSet<string> Poisoned = ["13"];

    private readonly RedisCacheJob _inner = new(context);

    public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        var healthy = batch.Where(i => !Poisoned.Contains(i.Key.Canonical)).ToList();
        var applied = await _inner.ApplyAsync(healthy, cancellationToken);
        var results = new ApplyResult[batch.Count];
        var next = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            results[i] = Poisoned.Contains(batch[i].Key.Canonical) ? ApplyResult.Failed("poisoned: the sink refuses this row") : applied[next++];
        }

        return results;
    }

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}

[Collection(ServerCollection.Name)]
public sealed class PoisonPkTests
{
    [Fact]
    public async Task A_pk_whose_job_always_fails_is_retried_then_dead_lettered_while_its_bucket_goes_on_and_the_offset_moves_past_it()
    {
        var schema = Servers.UniqueSchema("it_poison");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-poison-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
        var config = TestNode.Config(data, schema, prefix, 7201, """
            replicator.definitions.cache {
              buckets = 1
              retry { initial = 100ms, max = 400ms, max-attempts = 4, jitter = 0 }
              job.type = "Replicator.IntegrationTests.PoisonedRedisJob, Replicator.IntegrationTests"
            }
            """);
        var node = await TestNode.StartAsync(config);
        try
        {
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t SELECT seq, seq FROM {schema}.seq_1_to_50; UPDATE {schema}.t SET v = v + 1 WHERE id IN (12, 13, 14)");
            var end = await SourceEndAsync();

            var letters = await Eventually.UntilAsync(() => node.ListDeadLettersAsync("cache"), l => l.Entries.Count == 1, TimeSpan.FromSeconds(30));
            var letter = Assert.Single(letters.Entries);
            Assert.Equal("13", letter.Change.Key.Canonical);
            Assert.Equal(4, letter.Attempts);
            Assert.Contains("poisoned", letter.Error);

            // The other 49 rows of the single bucket were applied, with their newest images.
            using var redis = Servers.ConnectRedis();
            var db = redis.GetDatabase();
            for (var id = 1; id <= 50; id++)
            {
                var exists = await db.KeyExistsAsync($"{prefix}{schema}:t:{id}");
                Assert.Equal(id != 13, exists);
            }

            Assert.Equal("15", (string?)await db.HashGetAsync($"{prefix}{schema}:t:14", "v"));

            // Once parked, the pk no longer holds the offset back.
            var status = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.PersistedOffset is { } o && o.Position >= end, TimeSpan.FromSeconds(10));
            Assert.True(status.PersistedOffset!.Position >= end, $"offset {status.PersistedOffset} did not pass {end}");
            Assert.Equal(0, status.Outstanding);

            // Repaired and retried, the dead letter is applied and leaves the store.
            PoisonedRedisJob.Poisoned.Clear();
            await node.RetryDeadLettersAsync("cache");
            var emptied = await Eventually.UntilAsync(() => node.ListDeadLettersAsync("cache"), l => l.Entries.Count == 0, TimeSpan.FromSeconds(30));
            Assert.Empty(emptied.Entries);
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, prefix);
            var result = await checker.CheckAsync(schema, "t");
            Assert.True(result.Matches, result.ToString());
        }
        finally
        {
            PoisonedRedisJob.Poisoned.Add("13");
            await node.StopAsync();
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
