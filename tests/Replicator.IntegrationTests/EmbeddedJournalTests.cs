using Akka.Cluster;
using Akka.Configuration;
using MySqlConnector;
using Replicator.Engine;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// The embedded SQLite journal is per node: a capture that moved to another node would find no
/// offset there and start at the end of the binlog, skipping everything since the last commit. So
/// it serves one node only, and a node on it never becomes part of a larger cluster.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class EmbeddedJournalTests : IAsyncLifetime
{
    private readonly string _schema = Servers.UniqueSchema("it_embedded");
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
    public async Task A_node_on_the_embedded_journal_with_seed_nodes_refuses_to_start_and_says_to_use_the_mysql_persistence()
    {
        var config = Config("akka.cluster.seed-nodes = [\"akka.tcp://replicator@127.0.0.1:4053\", \"akka.tcp://replicator@127.0.0.1:4054\"]");

        var error = await Assert.ThrowsAsync<ConfigurationException>(() => ReplicatorNode.StartAsync(config, joinTimeout: TimeSpan.FromSeconds(10)));

        Assert.Contains("akka.cluster.seed-nodes", error.Message);
        Assert.Contains("replicator.persistence.provider = sqlite", error.Message);
        Assert.Contains("hocon/persistence-mysql.conf", error.Message);
    }

    [Fact]
    public async Task A_second_member_joining_a_node_on_the_embedded_journal_is_refused_and_the_capture_stays_where_its_offset_is()
    {
        var first = await StartAsync(Config());
        await TestNode.WaitForCaptureAsync(first, "it");
        var seed = Cluster.Get(first.System).SelfAddress.ToString();

        // The newcomer keeps its state in MySQL, as a cluster should; the first node does not, so they cannot share captures.
        var persistence = new MySqlConnectionStringBuilder(Servers.MariaDbAdmin) { Database = _state }.ConnectionString;
        var newcomer = Config($$"""
            akka.cluster.seed-nodes = ["{{seed}}"]
            replicator.persistence {
              provider = mysql
              connection-string = {{System.Text.Json.JsonSerializer.Serialize(persistence)}}
            }
            """);
        var refused = await Assert.ThrowsAsync<ConfigurationException>(() => ReplicatorNode.StartAsync(newcomer, joinTimeout: TimeSpan.FromSeconds(30)));
        Assert.Contains("embedded", refused.Message);
        Assert.Contains("hocon/persistence-mysql.conf", refused.Message);

        // The first node is alone again, still captures, and applies what is written.
        await Eventually.UntilAsync(() => Task.FromResult(Cluster.Get(first.System).State.Members.Count), n => n == 1, TimeSpan.FromSeconds(30));
        Assert.Single(Cluster.Get(first.System).State.Members);
        Assert.False(first.WhenTerminated.IsCompleted);
        await Servers.ExecuteAsync($"INSERT INTO {_schema}.t VALUES (1, 1)");
        using var redis = Servers.ConnectRedis();
        var applied = await Eventually.UntilAsync(() => redis.GetDatabase().KeyExistsAsync($"{_schema}:{_schema}:t:1"), e => e, TimeSpan.FromSeconds(30));
        Assert.True(applied);
    }

    [Fact]
    public async Task A_journal_left_where_a_working_directory_relative_data_dir_used_to_put_it_stops_the_node()
    {
        // Before data-dir resolved against the config file, "data-dir = <relative>" meant the working directory.
        var relative = "replicator-old-" + Guid.NewGuid().ToString("N")[..8];
        var old = Path.GetFullPath(relative);
        _directories.Add(old);
        Directory.CreateDirectory(old);
        await File.WriteAllTextAsync(Path.Combine(old, "replicator.db"), "");
        var configDirectory = Directory.CreateTempSubdirectory("replicator-conf-").FullName;
        _directories.Add(configDirectory);
        var file = Path.Combine(configDirectory, "node.conf");
        await File.WriteAllTextAsync(file, $"replicator.data-dir = \"{relative}\"\n");
        var config = Engine.Configuration.HoconLoader.LoadFile(file).WithFallback(Config());

        var error = await Assert.ThrowsAsync<ConfigurationException>(() => ReplicatorNode.StartAsync(config, joinTimeout: TimeSpan.FromSeconds(10)));

        Assert.Contains(Path.Combine(old, "replicator.db"), error.Message);
        Assert.Contains(Path.Combine(configDirectory, relative), error.Message);
        Assert.False(Directory.Exists(Path.Combine(configDirectory, relative)), "the node created an empty journal next to its config");
    }

    private Config Config(string extra = "")
    {
        var data = Directory.CreateTempSubdirectory("replicator-embedded-").FullName;
        _directories.Add(data);
        return TestNode.Config(data, _schema, _schema + ":", 7221, extra);
    }

    private async Task<ReplicatorNode> StartAsync(Config config)
    {
        var node = await ReplicatorNode.StartAsync(config);
        _nodes.Add(node);
        return node;
    }
}
