using Replicator.Engine.Jobs.RedisCache;
using Replicator.Engine.Jobs;
using Replicator.Engine.Replication;
using Replicator.IntegrationTests.Infrastructure;
using Replicator.Jobs;

namespace Replicator.IntegrationTests;

/// <summary>The Redis job, failing every change of the pks in <see cref="Failing"/> (the tests here run one at a time).</summary>
public sealed class FailingPksRedisJob(JobContext context) : IReplicationJob
{
    public static readonly HashSet<string> Failing = [];

    private readonly RedisCacheJob _inner = new(context);

    public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        bool Fails(JobItem item)
        {
            lock (Failing)
            {
                return Failing.Contains(item.Key.Canonical);
            }
        }

        var healthy = batch.Where(i => !Fails(i)).ToList();
        var applied = await _inner.ApplyAsync(healthy, cancellationToken);
        var results = new ApplyResult[batch.Count];
        var next = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            results[i] = Fails(batch[i]) ? ApplyResult.Failed("failing: the sink refuses this row") : applied[next++];
        }

        return results;
    }

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}

/// <summary>A dead-letter retry is safe after any delay: a retried letter is written as its row is now.</summary>
[Collection(ServerCollection.Name)]
public sealed class DeadLetterRetryTests
{
    [Fact]
    public async Task A_letter_retried_after_its_rows_delete_and_the_deletes_tombstone_expired_leaves_the_row_deleted()
    {
        var schema = Servers.UniqueSchema("it_tombstone");
        var prefix = schema + ":";
        var data = Directory.CreateTempSubdirectory("replicator-tombstone-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
        var config = TestNode.Config(data, schema, prefix, 7501, """
            replicator.definitions.cache {
              buckets = 2
              apply-timeout = 500ms
              retry { initial = 100ms, max = 200ms, max-attempts = 2, jitter = 0 }
              job {
                type = "Replicator.IntegrationTests.FailingPksRedisJob, Replicator.IntegrationTests"
                tombstone-ttl = 2s
              }
            }
            """);
        lock (FailingPksRedisJob.Failing)
        {
            FailingPksRedisJob.Failing.Add("7");
        }

        var node = await TestNode.StartAsync(config);
        try
        {
            using var redis = Servers.ConnectRedis();
            var db = redis.GetDatabase();
            var row = $"{prefix}{schema}:t:7";
            var version = $"{prefix}_v:{schema}:t:7";

            // pk 7's insert fails and is dead-lettered.
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t VALUES (7, 1), (8, 1)");
            var letters = await Eventually.UntilAsync(() => node.ListDeadLettersAsync("cache"), l => l.Entries.Count == 1, TimeSpan.FromSeconds(30));
            Assert.Equal("7", Assert.Single(letters.Entries).Change.Key.Canonical);

            // The sink is repaired; the row is deleted, and the delete's tombstone expires.
            lock (FailingPksRedisJob.Failing)
            {
                FailingPksRedisJob.Failing.Clear();
            }

            await Servers.ExecuteAsync($"DELETE FROM {schema}.t WHERE id = 7");
            await Eventually.UntilAsync(() => db.KeyExistsAsync(version), exists => exists, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
            var stillThere = await Eventually.UntilAsync(() => db.KeyExistsAsync(version), exists => !exists, TimeSpan.FromSeconds(10));
            Assert.False(stillThere, "the tombstone did not expire");

            // Retried now, the old insert must not bring the row back.
            await node.RetryDeadLettersAsync("cache");
            var emptied = await Eventually.UntilAsync(() => node.ListDeadLettersAsync("cache"), l => l.Entries.Count == 0, TimeSpan.FromSeconds(30));
            Assert.Empty(emptied.Entries);
            await Task.Delay(500);
            Assert.False(await db.KeyExistsAsync(row), "the retried dead letter brought the deleted row back");
            Assert.True(await db.KeyExistsAsync($"{prefix}{schema}:t:8"));
        }
        finally
        {
            lock (FailingPksRedisJob.Failing)
            {
                FailingPksRedisJob.Failing.Clear();
            }

            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }
}
