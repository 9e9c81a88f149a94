using Akka.Cluster;
using Akka.Configuration;
using MySqlConnector;
using Replicator.Engine;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// A node pointed at another cluster's seeds (a staging node at production, say) must not join it
/// and take its buckets: a member with other definitions is refused at join, and says why.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class JoinCheckTests : IAsyncLifetime
{
    private readonly string _schema = Servers.UniqueSchema("it_join");
    private readonly string _state = Servers.UniqueSchema("it_state");
    private readonly List<string> _directories = [];
    private readonly List<ReplicatorNode> _nodes = [];

    public async Task InitializeAsync()
    {
        await Servers.ExecuteAsync($"CREATE DATABASE {_schema}; CREATE DATABASE {_state}; CREATE TABLE {_schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Where(n => !n.WhenTerminated.IsCompleted))
        {
            await node.System.Terminate();
        }

        await Servers.ExecuteAsync($"DROP DATABASE IF EXISTS {_schema}; DROP DATABASE IF EXISTS {_state}");
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_node_with_other_definitions_is_refused_at_join_and_the_cluster_keeps_its_buckets()
    {
        var production = await StartAsync(Config(seed: null, "replicator.definitions.cache.buckets = 8"));
        await TestNode.WaitForCaptureAsync(production, "it");
        var seed = Cluster.Get(production.System).SelfAddress.ToString();

        var staging = Config(seed, "replicator.definitions.cache.buckets = 16");
        var refused = await Record.ExceptionAsync(() => StartAsync(staging, TimeSpan.FromSeconds(40)));

        var error = Assert.IsType<ConfigurationException>(refused);
        Assert.Contains("other sources or definitions", error.Message);
        Assert.Contains("replicator.definitions", error.Message);
        await Eventually.UntilAsync(() => Task.FromResult(Cluster.Get(production.System).State.Members.Count), n => n == 1, TimeSpan.FromSeconds(30));
        Assert.Single(Cluster.Get(production.System).State.Members);
        Assert.False(production.WhenTerminated.IsCompleted);
    }

    private Config Config(string? seed, string extra)
    {
        var data = Directory.CreateTempSubdirectory("replicator-join-").FullName;
        _directories.Add(data);
        var persistence = new MySqlConnectionStringBuilder(Servers.MariaDbAdmin) { Database = _state }.ConnectionString;
        return TestNode.Config(data, _schema, _schema + ":", 7251, $$"""
            akka.cluster.seed-nodes = [{{(seed is null ? "" : $"\"{seed}\"")}}]
            replicator.persistence {
              provider = mysql
              connection-string = {{System.Text.Json.JsonSerializer.Serialize(persistence)}}
            }
            {{extra}}
            """);
    }

    private async Task<ReplicatorNode> StartAsync(Config config, TimeSpan? joinTimeout = null)
    {
        var node = await ReplicatorNode.StartAsync(config, joinTimeout: joinTimeout);
        _nodes.Add(node);
        return node;
    }
}
