using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using MySqlConnector;
using Replicator.Engine;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Replicator.IntegrationTests;

/// <summary>
/// Several nodes (actor systems) in one process, on 127.0.0.1, sharing offsets through MariaDB
/// persistence, with <c>akka.actor.serialize-messages = on</c> so every message goes through its
/// serializer as it would between machines.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _schema = Servers.UniqueSchema("it_cluster");
    private readonly string _state = Servers.UniqueSchema("it_state");
    private readonly List<ReplicatorNode> _nodes = [];
    private readonly List<string> _directories = [];

    public async Task InitializeAsync()
    {
        await Servers.ExecuteAsync($"CREATE DATABASE {_schema}; CREATE DATABASE {_state}; CREATE TABLE {_schema}.t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, ver BIGINT NOT NULL)");
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Where(n => !n.System.WhenTerminated.IsCompleted))
        {
            await node.System.Terminate();
        }

        await Servers.ExecuteAsync($"DROP DATABASE IF EXISTS {_schema}; DROP DATABASE IF EXISTS {_state}");
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task<ReplicatorNode> StartNodeAsync(string? seed, int serverId = 7301)
    {
        var data = Directory.CreateTempSubdirectory("replicator-cluster-").FullName;
        _directories.Add(data);
        var persistence = new MySqlConnectionStringBuilder(Servers.MariaDbAdmin) { Database = _state }.ConnectionString;
        var extra = InProcessOnlySerializer.Config + $$"""

            akka.cluster.seed-nodes = [{{(seed is null ? "" : $"\"{seed}\"")}}]
            akka.cluster.sharding.rebalance-interval = 1s
            akka.cluster.sharding.least-shard-allocation-strategy.rebalance-absolute-limit = 4
            replicator.persistence {
              provider = mysql
              connection-string = {{System.Text.Json.JsonSerializer.Serialize(persistence)}}
            }
            replicator.definitions.cache.buckets = 12
            """;
        var node = await Engine.ReplicatorNode.StartAsync(TestNode.Config(data, _schema, _schema + ":", serverId, extra));
        _nodes.Add(node);
        return node;
    }

    private async Task WriteAsync(int from, int count)
    {
        await Servers.ExecuteAsync($"INSERT INTO {_schema}.t SELECT seq, seq, 1 FROM {_schema}.seq_{from}_to_{from + count - 1}; UPDATE {_schema}.t SET v = v + 1, ver = ver + 1 WHERE id % 3 = 0");
    }

    private async Task ConvergeAsync(RedisCacheSinkChecker checker)
    {
        var result = await Eventually.UntilAsync(() => checker.CheckAsync(_schema, "t"), r => r.Matches, TimeSpan.FromSeconds(90));
        Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
    }

    private static async Task<int> ShardsHostedAsync(ReplicatorNode node)
    {
        var state = await node.Regions["cache"].Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
        return state.Shards.Count;
    }

    [Fact]
    public async Task A_third_node_takes_buckets_over_and_the_capture_hands_over_when_its_node_leaves()
    {
        using var redis = Servers.ConnectRedis();
        var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, _schema + ":");

        var first = await StartNodeAsync(seed: null);
        var seed = Cluster.Get(first.System).SelfAddress.ToString();
        var second = await StartNodeAsync(seed);
        await TestNode.WaitForCaptureAsync(first, "it");
        await WriteAsync(1, 3000);
        await ConvergeAsync(checker);
        var before = await Task.WhenAll(ShardsHostedAsync(first), ShardsHostedAsync(second));
        output.WriteLine($"two nodes host {before[0]} + {before[1]} shards");
        Assert.Equal(12, before.Sum());

        // A third node joins: the coordinator moves buckets onto it.
        var third = await StartNodeAsync(seed);
        var hosted = await Eventually.UntilAsync(() => ShardsHostedAsync(third), n => n >= 2, TimeSpan.FromSeconds(60));
        output.WriteLine($"the third node hosts {hosted} shards after rebalancing");
        Assert.True(hosted >= 2, $"the third node hosts {hosted} shards");
        await WriteAsync(3001, 3000);
        await ConvergeAsync(checker);
        Assert.True(third.Metrics.Definition("cache").Applied > 0, "the third node applied changes of its buckets");

        // The node running the capture singleton (the oldest) leaves; the singleton moves and resumes from the persisted offset.
        var capturedBefore = first.Metrics.Source("it").Captured;
        Assert.True(capturedBefore >= 6000);
        await first.StopAsync();
        var status = await TestNode.WaitForCaptureAsync(second, "it");
        output.WriteLine($"capture moved; resumed at {status.PersistedOffset}");
        await WriteAsync(6001, 2000);
        await ConvergeAsync(checker);
        var capturedAfter = second.Metrics.Source("it").Captured + third.Metrics.Source("it").Captured;
        output.WriteLine($"captured before hand-over {capturedBefore}, after {capturedAfter}");
        Assert.InRange(capturedAfter, 2000 + 2666, 2000 + 2666 + 500);
        Assert.Equal(1, await ReplicasRegisteredAsync(7301));
    }

    /// <summary>Binlog readers registered on the source with a server id (SHOW SLAVE HOSTS): a second reader would show twice.</summary>
    public static async Task<int> ReplicasRegisteredAsync(int serverId)
    {
        await using var connection = await Servers.OpenAdminAsync();
        await using var command = new MySqlCommand("SHOW SLAVE HOSTS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var count = 0;
        while (await reader.ReadAsync())
        {
            if (Convert.ToInt64(reader["Server_id"], System.Globalization.CultureInfo.InvariantCulture) == serverId)
            {
                count++;
            }
        }

        return count;
    }
}
