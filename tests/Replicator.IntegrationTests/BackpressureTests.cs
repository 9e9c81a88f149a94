using Replicator.Engine.Jobs;
using Replicator.Engine.Replication;
using Replicator.IntegrationTests.Infrastructure;
using Replicator.Jobs;

namespace Replicator.IntegrationTests;

/// <summary>A sink that takes 20 ms per batch.</summary>
public sealed class SlowJob : IReplicationJob
{
    public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        await Task.Delay(20, cancellationToken);
        return Enumerable.Repeat(ApplyResult.Applied, batch.Count).ToArray();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

[Collection(ServerCollection.Name)]
public sealed class BackpressureTests
{
    [Fact]
    public async Task Capture_stops_reading_while_max_in_flight_changes_are_unacknowledged()
    {
        var schema = Servers.UniqueSchema("it_bp");
        var data = Directory.CreateTempSubdirectory("replicator-bp-").FullName;
        await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
        var node = await TestNode.StartAsync(TestNode.Config(data, schema, schema + ":", 7401, """
            replicator.capture.max-in-flight = 25
            replicator.definitions.cache {
              buckets = 4
              batch-size = 2
              job.type = "Replicator.IntegrationTests.SlowJob, Replicator.IntegrationTests"
            }
            """));
        try
        {
            // One 600-row transaction and 100 small ones: far more than fits in flight.
            await Servers.ExecuteAsync($"INSERT INTO {schema}.t SELECT seq, seq FROM {schema}.seq_1_to_600");
            for (var i = 0; i < 100; i++)
            {
                await Servers.ExecuteAsync($"UPDATE {schema}.t SET v = v + 1 WHERE id = {1 + i}");
            }

            var maxOutstanding = 0L;
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline)
            {
                var status = await node.GetCaptureStatusAsync("it");
                maxOutstanding = Math.Max(maxOutstanding, status.Outstanding);
                if (status.ChangesCaptured == 700 && status.Outstanding == 0)
                {
                    break;
                }

                await Task.Delay(20);
            }

            var final = await node.GetCaptureStatusAsync("it");
            Assert.Equal(700, final.ChangesCaptured);
            Assert.Equal(0, final.Outstanding);
            Assert.InRange(maxOutstanding, 1, 25);
        }
        finally
        {
            await node.StopAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
            Directory.Delete(data, recursive: true);
        }
    }
}
