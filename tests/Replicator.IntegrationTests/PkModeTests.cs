using Akka.Actor;
using Akka.Event;
using Replicator.Binlog.Columns;
using Replicator.Engine.Configuration;
using Replicator.Engine.Jobs;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.Engine.Replication;
using Replicator.IntegrationTests.Infrastructure;
using Replicator.Jobs;
using Replicator.Model;
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

    /// <summary>
    /// The job reads rows by the table's columns, which it caches: after an ALTER TABLE, a change with
    /// the new columns makes it read them again, so an added column reaches Redis and a dropped one
    /// neither fails the read nor stays in the row.
    /// </summary>
    [Fact]
    public async Task Columns_added_or_dropped_by_DDL_between_changes_are_read_as_the_table_has_them_now()
    {
        await using var run = await PkRun.StartAsync("it_pkddl", 7703, "(id INT PRIMARY KEY, v INT, note VARCHAR(10))");
        await Servers.ExecuteAsync($"INSERT INTO {run.Schema}.t VALUES (1, 1, 'a'), (2, 2, 'b')");
        await run.AssertMatchesAsync();

        var db = run.Redis.GetDatabase();
        async Task<Dictionary<string, string>> RowAsync(int id, Func<Dictionary<string, string>, bool> until) =>
            await Eventually.UntilAsync(async () => (await db.HashGetAllAsync($"{run.Prefix}{run.Schema}:t:{id}")).ToDictionary(e => (string)e.Name!, e => (string)e.Value!), until, TimeSpan.FromSeconds(30));

        await Servers.ExecuteAsync($"ALTER TABLE {run.Schema}.t ADD COLUMN w INT NOT NULL DEFAULT 5; UPDATE {run.Schema}.t SET v = 10 WHERE id = 1");
        var added = await RowAsync(1, r => r.GetValueOrDefault("v") == "10");
        Assert.Equal(new Dictionary<string, string> { ["id"] = "1", ["v"] = "10", ["note"] = "a", ["w"] = "5" }, added);

        await Servers.ExecuteAsync($"ALTER TABLE {run.Schema}.t DROP COLUMN note; UPDATE {run.Schema}.t SET w = 6 WHERE id = 2");
        var dropped = await RowAsync(2, r => r.GetValueOrDefault("w") == "6");
        Assert.Equal(new Dictionary<string, string> { ["id"] = "2", ["v"] = "2", ["w"] = "6" }, dropped);
    }

    /// <summary>
    /// pk mode end to end on a composite key listed out of column order: inserts, a hot set of rows
    /// updated continuously while the job reads them, deletes, re-inserts and pk changes. Redis ends
    /// with exactly the source's rows, and nothing is dead-lettered.
    /// </summary>
    [Fact]
    public async Task A_composite_key_table_under_inserts_hot_updates_deletes_and_pk_changes_matches_the_source_row_by_row()
    {
        await using var run = await PkRun.StartAsync("it_pkall", 7704, "(id INT NOT NULL, tenant INT NOT NULL, v BIGINT NOT NULL, note VARCHAR(40), PRIMARY KEY (tenant, id))");
        var random = new Random(11);
        await using var connection = await Servers.OpenAdminAsync();
        async Task ExecuteAsync(string sql) => await new MySqlConnector.MySqlCommand(sql, connection).ExecuteNonQueryAsync();

        await ExecuteAsync($"INSERT INTO {run.Schema}.t SELECT seq, seq % 7, seq, CONCAT('n-', seq) FROM {run.Schema}.seq_1_to_2000");
        for (var i = 0; i < 3000; i++)
        {
            // Ten hot rows, one statement each, as fast as the connection goes.
            var id = 1 + random.Next(10);
            await ExecuteAsync($"UPDATE {run.Schema}.t SET v = {random.Next()}, note = {(i % 5 == 0 ? "NULL" : $"'u-{i}'")} WHERE tenant = {id % 7} AND id = {id}");
        }

        await ExecuteAsync($"DELETE FROM {run.Schema}.t WHERE id BETWEEN 1001 AND 1400");
        await ExecuteAsync($"INSERT INTO {run.Schema}.t SELECT seq, seq % 7, 0, 'again' FROM {run.Schema}.seq_1001_to_1200");
        await ExecuteAsync($"UPDATE {run.Schema}.t SET tenant = tenant + 100 WHERE id BETWEEN 1500 AND 1700");
        await ExecuteAsync($"UPDATE {run.Schema}.t SET id = id + 100000, v = v + 1 WHERE id BETWEEN 1701 AND 1800");

        var result = await run.AssertMatchesAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(1800, result.SourceRows);
        var counters = run.Node.Metrics.Definition("cache");
        Assert.Equal(0, counters.DeadLettered);
    }

    /// <summary>A column dropped under a change that still names it (captured before the DDL): the read does not fail on it.</summary>
    [Fact]
    public async Task A_column_dropped_since_the_columns_were_cached_does_not_fail_the_read()
    {
        await using var job = await PkJob.StartAsync("(id INT PRIMARY KEY, v INT, note VARCHAR(10))", "INSERT INTO {t} VALUES (1, 1, 'a')");
        var before = job.Update(1, [("v", ColumnValue.FromInt64(1)), ("note", ColumnValue.FromString("a"))], 100);
        Assert.True((await job.ApplyAsync(before))[0] is { Success: true, Stale: false });

        await Servers.ExecuteAsync($"ALTER TABLE {job.Table} DROP COLUMN note");
        var result = (await job.ApplyAsync(job.Update(1, [("v", ColumnValue.FromInt64(1)), ("note", ColumnValue.FromString("a"))], 200)))[0];
        Assert.True(result is { Success: true, Stale: false }, result.Error);
        Assert.Equal(new Dictionary<string, string> { ["id"] = "1", ["v"] = "1" }, await job.RowAsync(1));
    }

    /// <summary>
    /// MariaDB writes the binlog before the engine commit is visible, so the job can read a row before
    /// the change it applies: a write whose row is not there yet, a delete whose row still is, an
    /// update over the older row. Each is held open here in a transaction on another connection (or
    /// fed newer than the table). Writing what was read at the change's version would be kept by the
    /// fence for ever (a redelivery is refused as stale); the job writes the row as the change left it.
    /// </summary>
    [Fact]
    public async Task A_change_whose_commit_is_not_visible_yet_is_written_as_the_change_left_the_row()
    {
        await using var job = await PkJob.StartAsync("(id INT PRIMARY KEY, v INT, note VARCHAR(10))", "INSERT INTO {t} VALUES (2, 1, 'a'), (3, 1, 'a')");
        await using var other = await Servers.OpenAdminAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await new MySqlConnector.MySqlCommand($"INSERT INTO {job.Table} VALUES (1, 7, 'x'); DELETE FROM {job.Table} WHERE id = 2", other, transaction).ExecuteNonQueryAsync();

        RowChange[] changes =
        [
            job.Update(1, [("v", ColumnValue.FromInt64(7)), ("note", ColumnValue.FromString("x"))], 100, ChangeAction.Write),
            job.Update(2, [("v", ColumnValue.FromInt64(1)), ("note", ColumnValue.FromString("a"))], 100, ChangeAction.Delete),
            job.Update(3, [("v", ColumnValue.FromInt64(2)), ("note", ColumnValue.FromString("a"))], 100),
        ];
        var results = await job.ApplyAsync(changes);
        Assert.All(results, r => Assert.True(r is { Success: true, Stale: false }, r.Error));
        await transaction.CommitAsync();
        await Servers.ExecuteAsync($"UPDATE {job.Table} SET v = 2 WHERE id = 3");

        // Redelivered: refused as stale, so what the first apply wrote is what stays.
        Assert.All(await job.ApplyAsync(changes), r => Assert.True(r.Stale));
        Assert.Equal(new Dictionary<string, string> { ["id"] = "1", ["v"] = "7", ["note"] = "x" }, await job.RowAsync(1));
        Assert.Empty(await job.RowAsync(2));
        Assert.Equal(new Dictionary<string, string> { ["id"] = "3", ["v"] = "2", ["note"] = "a" }, await job.RowAsync(3));
    }

    /// <summary>
    /// A partial image (binlog_row_image MINIMAL or NOBLOB) cannot stand for the row: one whose row is
    /// not visible yet is read again and then failed, to be retried, never written as a delete; one
    /// over the older row is laid over what was read.
    /// </summary>
    [Fact]
    public async Task A_partial_image_is_retried_while_its_row_is_not_visible_and_laid_over_an_older_row()
    {
        await using var job = await PkJob.StartAsync("(id INT PRIMARY KEY, v INT, note VARCHAR(10), d INT NOT NULL DEFAULT 9)", "INSERT INTO {t} VALUES (5, 1, 'a', 9)");
        await using var other = await Servers.OpenAdminAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await new MySqlConnector.MySqlCommand($"INSERT INTO {job.Table} (id, v, note) VALUES (4, 1, 'p')", other, transaction).ExecuteNonQueryAsync();

        var insert = job.Update(4, [("v", ColumnValue.FromInt64(1)), ("note", ColumnValue.FromString("p")), ("d", ColumnValue.Absent)], 100, ChangeAction.Write);
        var update = job.Update(5, [("v", ColumnValue.Absent), ("note", ColumnValue.FromString("b")), ("d", ColumnValue.Absent)], 100);
        var results = await job.ApplyAsync(insert, update);
        Assert.False(results[0].Success);
        Assert.Contains("not visible yet", results[0].Error);
        Assert.False(await job.HasVersionAsync(4));
        Assert.True(results[1] is { Success: true, Stale: false }, results[1].Error);
        Assert.Equal(new Dictionary<string, string> { ["id"] = "5", ["v"] = "1", ["note"] = "b", ["d"] = "9" }, await job.RowAsync(5));

        await transaction.CommitAsync();
        var retried = (await job.ApplyAsync(insert))[0];
        Assert.True(retried is { Success: true, Stale: false }, retried.Error);
        Assert.Equal(new Dictionary<string, string> { ["id"] = "4", ["v"] = "1", ["note"] = "p", ["d"] = "9" }, await job.RowAsync(4));
    }

    /// <summary>A pk-mode job over one table of its own schema, fed changes by hand.</summary>
    private sealed class PkJob : IAsyncDisposable
    {
        private readonly ActorSystem _system;
        private readonly RedisCacheJob _job;
        private readonly ConnectionMultiplexer _redis;

        private PkJob(string schema, ActorSystem system, RedisCacheJob job, ConnectionMultiplexer redis)
        {
            Schema = schema;
            _system = system;
            _job = job;
            _redis = redis;
        }

        public string Schema { get; }

        public string Table => Schema + ".t";

        public string Prefix => Schema + ":";

        public static async Task<PkJob> StartAsync(string columns, string sql = "")
        {
            var schema = Servers.UniqueSchema("it_pkjob");
            await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t {columns}" + (sql.Length > 0 ? "; " + sql.Replace("{t}", schema + ".t", StringComparison.Ordinal) : ""));
            var config = HoconLoader.LoadString($$"""
                replicator.sources.s { connection-string = {{System.Text.Json.JsonSerializer.Serialize(Servers.MariaDbCdc)}}, server-id = 7710 }
                replicator.definitions.d { topics = ["*"], mode = pk, job { redis = {{System.Text.Json.JsonSerializer.Serialize(Servers.Redis)}}, key-prefix = "{{schema}}:" } }
                """);
            var settings = ReplicatorSettings.Create(config);
            var system = ActorSystem.Create("pkjob", config.WithFallback(ReplicatorSettings.Defaults));
            var job = new RedisCacheJob(new JobContext(settings.Definitions[0], settings, system, Logging.GetLogger(system, "pk-job")));
            return new PkJob(schema, system, job, Servers.ConnectRedis());
        }

        /// <summary>An update of pk <paramref name="id"/> whose after image holds id and <paramref name="columns"/> (a full image when they are all of the table's other columns).</summary>
        public RowChange Update(long id, (string Name, ColumnValue Value)[] columns, long position, ChangeAction action = ChangeAction.Update)
        {
            var image = new RowData(["id", .. columns.Select(c => c.Name)], [ColumnValue.FromInt64(id), .. columns.Select(c => c.Value)]);
            return new RowChange("s", Schema, "t", action, new RowKey(["id"], [ColumnValue.FromInt64(id)]),
                action == ChangeAction.Write ? null : image, action == ChangeAction.Delete ? null : image,
                new ChangePosition("mariadb-bin.000001", position, null), new SourceVersion(1, position, 0), DateTime.UtcNow);
        }

        public Task<IReadOnlyList<ApplyResult>> ApplyAsync(params RowChange[] changes) =>
            _job.ApplyAsync(changes.Select(c => new JobItem(c.Key, c, 1)).ToList(), CancellationToken.None);

        /// <summary>The row's hash in Redis (empty when there is none).</summary>
        public async Task<Dictionary<string, string>> RowAsync(long id) =>
            (await _redis.GetDatabase().HashGetAllAsync($"{Prefix}{Schema}:t:{id}")).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);

        public async Task<bool> HasVersionAsync(long id) => await _redis.GetDatabase().KeyExistsAsync($"{Prefix}_v:{Schema}:t:{id}");

        public async ValueTask DisposeAsync()
        {
            await _job.DisposeAsync();
            await _system.Terminate();
            _redis.Dispose();
            await Servers.ExecuteAsync($"DROP DATABASE {Schema}");
        }
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
            Checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, Prefix);
        }

        public string Schema { get; }

        public string Prefix => Schema + ":";

        public Engine.ReplicatorNode Node { get; }

        public ConnectionMultiplexer Redis { get; }

        public RedisCacheSinkChecker Checker { get; }

        public static async Task<PkRun> StartAsync(string prefix, int serverId, string columns, string extra = "")
        {
            var schema = Servers.UniqueSchema(prefix);
            var data = Directory.CreateTempSubdirectory("replicator-pk-").FullName;
            await Servers.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t {columns}");
            var node = await TestNode.StartAsync(TestNode.Config(data, schema, schema + ":", serverId, "replicator.definitions.cache.mode = pk\n" + extra.Replace("{schema}", schema, StringComparison.Ordinal)));
            return new PkRun(schema, data, node, Servers.ConnectRedis());
        }

        /// <summary>Waits until Redis holds exactly the source's rows of t, and asserts it does.</summary>
        public async Task<SinkCheckResult> AssertMatchesAsync(TimeSpan? timeout = null, IReadOnlyList<string>? keyColumns = null)
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
