using Replicator.Host.Commands;
using Replicator.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Replicator.IntegrationTests;

/// <summary>
/// <c>mode = pk</c> (meepo's model) end to end: the buckets get pks and the Redis job reads each
/// row back from the source by its key.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PkModeTests
{
    /// <summary>
    /// The key's values arrive in key order (tenant, id); a table that declares id first must still
    /// be read by (tenant, id) = (tenant value, id value), and its rows land under the key's own
    /// canonical text.
    /// </summary>
    [Fact]
    public async Task A_composite_key_listed_in_another_order_than_its_columns_reads_every_row()
    {
        await using var run = await PkRun.StartAsync("it_pkord", 7701, "(id INT NOT NULL, tenant INT NOT NULL, v VARCHAR(20), PRIMARY KEY (tenant, id))");
        await Servers.ExecuteAsync($"INSERT INTO {run.Schema}.t VALUES (1, 10, 'a'), (2, 10, 'b'), (1, 20, 'c')");

        var db = run.Redis.GetDatabase();
        var row = await Eventually.UntilAsync(() => db.HashGetAllAsync($"{run.Prefix}{run.Schema}:t:20:1"), r => r.Length > 0, TimeSpan.FromSeconds(30));
        Assert.Equal(new Dictionary<string, string> { ["id"] = "1", ["tenant"] = "20", ["v"] = "c" }, row.ToDictionary(e => (string)e.Name!, e => (string)e.Value!));
        await run.AssertMatchesAsync();
    }

    /// <summary>A table without a primary key is captured by its configured key-columns, and read back by them.</summary>
    [Fact]
    public async Task A_table_with_configured_key_columns_is_read_back_by_them()
    {
        await using var run = await PkRun.StartAsync("it_pkkc", 7702, "(at INT NOT NULL, seq INT NOT NULL, what VARCHAR(20))", """replicator.sources.it.key-columns { "{schema}.t" = [seq, at] }""");
        await Servers.ExecuteAsync($"INSERT INTO {run.Schema}.t VALUES (100, 1, 'a'), (100, 2, 'b'); UPDATE {run.Schema}.t SET what = 'c' WHERE seq = 2");

        var db = run.Redis.GetDatabase();
        var row = await Eventually.UntilAsync(() => db.HashGetAllAsync($"{run.Prefix}{run.Schema}:t:2:100"), r => r.Length > 0 && r.Any(e => e.Value == "c"), TimeSpan.FromSeconds(30));
        Assert.Equal(new Dictionary<string, string> { ["at"] = "100", ["seq"] = "2", ["what"] = "c" }, row.ToDictionary(e => (string)e.Name!, e => (string)e.Value!));
        Assert.Equal("a", (string?)await db.HashGetAsync($"{run.Prefix}{run.Schema}:t:1:100", "what"));
        await run.AssertMatchesAsync(keyColumns: ["seq", "at"]);
    }

    /// <summary>A node in pk mode over one table, with a checker; drops the schema at the end.</summary>
    private sealed class PkRun : IAsyncDisposable
    {
        private readonly string _data;

        private PkRun(string schema, string data, Engine.ReplicatorNode node, ConnectionMultiplexer redis)
        {
            Schema = schema;
            _data = data;
            Node = node;
            Redis = redis;
            Checker = new RedisSinkChecker(Servers.MariaDbCdc, redis, Prefix);
        }

        public string Schema { get; }

        public string Prefix => Schema + ":";

        public Engine.ReplicatorNode Node { get; }

        public ConnectionMultiplexer Redis { get; }

        public RedisSinkChecker Checker { get; }

        public static async Task<PkRun> StartAsync(string prefix, int serverId, string columns, string extra = "")
        {
            var schema = Servers.UniqueSchema(prefix);
            var data = Directory.CreateTempSubdirectory("replicator-pk-").FullName;
            await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t {columns}");
            var node = await TestNode.StartAsync(TestNode.Config(data, schema, schema + ":", serverId, "replicator.definitions.cache.mode = pk\n" + extra.Replace("{schema}", schema, StringComparison.Ordinal)));
            return new PkRun(schema, data, node, Servers.ConnectRedis());
        }

        /// <summary>Waits until Redis holds exactly the source's rows of t, and asserts it does.</summary>
        public async Task<CheckResult> AssertMatchesAsync(TimeSpan? timeout = null, IReadOnlyList<string>? keyColumns = null)
        {
            var result = await Eventually.UntilAsync(() => Checker.CheckAsync(Schema, "t", keyColumns: keyColumns), r => r.Matches, timeout ?? TimeSpan.FromSeconds(60));
            Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
            return result;
        }

        public async ValueTask DisposeAsync()
        {
            await Node.StopAsync();
            Redis.Dispose();
            await Servers.ExecuteAsync($"DROP DATABASE {Schema}");
            Directory.Delete(_data, recursive: true);
        }
    }
}
