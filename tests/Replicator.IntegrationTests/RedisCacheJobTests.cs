using Replicator.Engine.Jobs.RedisCache;
using Akka.Actor;
using Akka.Event;
using Replicator.Binlog.Columns;
using Replicator.Engine.Configuration;
using Replicator.Engine.Jobs;
using Replicator.IntegrationTests.Infrastructure;
using Replicator.Jobs;
using Replicator.Model;

namespace Replicator.IntegrationTests;

[Collection(ServerCollection.Name)]
public sealed class RedisCacheJobTests : IAsyncLifetime
{
    private readonly string _prefix = $"it_job_{Guid.NewGuid():N}"[..15] + ":";
    private ActorSystem _system = null!;
    private RedisCacheJob _job = null!;

    public Task InitializeAsync()
    {
        var config = HoconLoader.LoadString($$"""
            replicator.sources.s { connection-string = {{System.Text.Json.JsonSerializer.Serialize(Servers.MariaDbCdc)}}, server-id = 7601 }
            replicator.definitions.d { topics = ["*"], job { redis = {{System.Text.Json.JsonSerializer.Serialize(Servers.Redis)}}, key-prefix = "{{_prefix}}" } }
            """);
        var settings = ReplicatorSettings.Create(config);
        _system = ActorSystem.Create("job", config.WithFallback(ReplicatorSettings.Defaults));
        _job = new RedisCacheJob(new JobContext(settings.Definitions[0], settings, _system, Logging.GetLogger(_system, "job")));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _job.DisposeAsync();
        await _system.Terminate();
    }

    private static RowChange Change(long id, long v, long position, ChangeAction action = ChangeAction.Write)
    {
        var row = new RowData(["id", "v", "note"], [ColumnValue.FromInt64(id), ColumnValue.FromInt64(v), ColumnValue.Null]);
        return new RowChange("s", "shop", "t", action, new RowKey(["id"], [ColumnValue.FromInt64(id)]),
            action == ChangeAction.Write ? null : row, action == ChangeAction.Delete ? null : row,
            new ChangePosition("mariadb-bin.000001", position, null), new SourceVersion(1, position, 0), DateTime.UtcNow);
    }

    private static JobItem Item(RowChange change) => new(change.Key, change, 1);

    [Fact]
    public async Task Writes_are_fenced_by_version_and_deletes_leave_a_tombstone_that_stops_a_late_write()
    {
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        var results = await _job.ApplyAsync([Item(Change(1, 10, 200)), Item(Change(2, 20, 200))], CancellationToken.None);
        Assert.All(results, r => Assert.True(r.Success && !r.Stale));
        Assert.Equal("10", (string?)await db.HashGetAsync($"{_prefix}shop:t:1", "v"));
        Assert.False(await db.HashExistsAsync($"{_prefix}shop:t:1", "note"));

        var stale = await _job.ApplyAsync([Item(Change(1, 9, 100))], CancellationToken.None);
        Assert.True(stale[0].Stale);
        Assert.Equal("10", (string?)await db.HashGetAsync($"{_prefix}shop:t:1", "v"));

        await _job.ApplyAsync([Item(Change(1, 10, 300, ChangeAction.Delete))], CancellationToken.None);
        Assert.False(await db.KeyExistsAsync($"{_prefix}shop:t:1"));
        var late = await _job.ApplyAsync([Item(Change(1, 11, 250))], CancellationToken.None);
        Assert.True(late[0].Stale);
        Assert.False(await db.KeyExistsAsync($"{_prefix}shop:t:1"));
        Assert.True(await db.KeyTimeToLiveAsync($"{_prefix}_v:shop:t:1") is { } ttl && ttl > TimeSpan.Zero);
    }

    [Fact]
    public async Task A_row_the_sink_refuses_fails_alone_while_the_rest_of_its_batch_is_written()
    {
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        await db.StringSetAsync($"{_prefix}shop:t:5", "poison");
        var batch = Enumerable.Range(1, 300).Select(i => Item(Change(i, i, 1000 + i))).ToList();
        var results = await _job.ApplyAsync(batch, CancellationToken.None);
        Assert.False(results[4].Success);
        Assert.Contains("WRONGTYPE", results[4].Error);
        Assert.Equal(299, results.Count(r => r.Success && !r.Stale));
        Assert.Equal("300", (string?)await db.HashGetAsync($"{_prefix}shop:t:300", "v"));
    }

    [Fact]
    public async Task A_key_the_job_holds_no_version_for_keeps_what_is_not_its_own()
    {
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        await db.HashSetAsync($"{_prefix}shop:t:40", [new("foreign", "keep"), new("note", "old")]);
        await db.StringSetAsync($"{_prefix}shop:t:41", "str");
        await db.StringSetAsync($"{_prefix}shop:t:42", "str");
        await db.HashSetAsync($"{_prefix}shop:t:43", [new("foreign", "keep"), new("v", "9")]);

        var results = await _job.ApplyAsync(
            [Item(Change(40, 1, 500)), Item(Change(41, 1, 500)), Item(Change(42, 1, 500, ChangeAction.Delete)), Item(Change(43, 1, 500, ChangeAction.Delete))],
            CancellationToken.None);

        // An unowned hash: the row's columns are set and its NULL column removed; the rest stays.
        Assert.True(results[0].Success && !results[0].Stale);
        var merged = (await db.HashGetAllAsync($"{_prefix}shop:t:40")).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal(new Dictionary<string, string> { ["foreign"] = "keep", ["id"] = "40", ["v"] = "1" }, merged);

        // A key of another type is refused, written or deleted, and left as it was.
        Assert.False(results[1].Success);
        Assert.Contains("WRONGTYPE", results[1].Error);
        Assert.False(results[2].Success);
        Assert.Contains("WRONGTYPE", results[2].Error);
        Assert.Equal("str", (string?)await db.StringGetAsync($"{_prefix}shop:t:41"));
        Assert.Equal("str", (string?)await db.StringGetAsync($"{_prefix}shop:t:42"));

        // A delete of an unowned hash removes the row's columns, not the key, and leaves its tombstone.
        Assert.True(results[3].Success && !results[3].Stale);
        Assert.Equal([new("foreign", "keep")], await db.HashGetAllAsync($"{_prefix}shop:t:43"));
        Assert.True(await db.KeyTimeToLiveAsync($"{_prefix}_v:shop:t:43") is { } ttl && ttl > TimeSpan.Zero);

        // Once the job has written the row, a full image replaces it.
        await _job.ApplyAsync([Item(Change(40, 2, 600))], CancellationToken.None);
        var replaced = (await db.HashGetAllAsync($"{_prefix}shop:t:40")).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal(new Dictionary<string, string> { ["id"] = "40", ["v"] = "2" }, replaced);
    }

    [Fact]
    public async Task Rows_of_several_tables_and_null_patterns_in_one_call_each_get_their_own_columns()
    {
        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        IReadOnlyList<string> a = ["id", "x", "y"], b = ["k", "name"];
        static RowChange Row(string table, IReadOnlyList<string> names, ColumnValue[] values, long position) =>
            new("s", "shop", table, ChangeAction.Write, new RowKey([names[0]], [values[0]]), null, new RowData(names, values),
                new ChangePosition("mariadb-bin.000001", position, null), new SourceVersion(1, position, 0), DateTime.UtcNow);

        // Interleaved tables, NULL patterns and a partial image, 300 rows: three script calls, shapes shared within each.
        var changes = new List<RowChange>();
        for (var i = 0; i < 300; i++)
        {
            changes.Add((i % 4) switch
            {
                0 => Row("a", a, [ColumnValue.FromInt64(i), ColumnValue.FromInt64(i * 10), ColumnValue.Null], 1000 + i),
                1 => Row("a", a, [ColumnValue.FromInt64(i), ColumnValue.Null, ColumnValue.FromInt64(i * 20)], 1000 + i),
                2 => Row("b", b, [ColumnValue.FromInt64(i), ColumnValue.FromBytes(System.Text.Encoding.UTF8.GetBytes($"n{i}"))], 1000 + i),
                _ => Row("a", a, [ColumnValue.FromInt64(i), ColumnValue.Absent, ColumnValue.FromInt64(i * 30)], 1000 + i),
            });
        }

        await db.HashSetAsync($"{_prefix}shop:a:3", [new("x", "before"), new("y", "before")]);
        var results = await _job.ApplyAsync(changes.Select(Item).ToList(), CancellationToken.None);
        Assert.All(results, r => Assert.True(r.Success && !r.Stale, r.Error));
        for (var i = 0; i < 300; i++)
        {
            var table = i % 4 == 2 ? "b" : "a";
            var hash = (await db.HashGetAllAsync($"{_prefix}shop:{table}:{i}")).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
            var expected = (i % 4) switch
            {
                0 => new Dictionary<string, string> { ["id"] = $"{i}", ["x"] = $"{i * 10}" },
                1 => new Dictionary<string, string> { ["id"] = $"{i}", ["y"] = $"{i * 20}" },
                2 => new Dictionary<string, string> { ["k"] = $"{i}", ["name"] = $"n{i}" },
                _ => new Dictionary<string, string> { ["id"] = $"{i}", ["x"] = i == 3 ? "before" : null!, ["y"] = $"{i * 30}" }
                    .Where(p => p.Value is not null).ToDictionary(),
            };
            Assert.Equal(expected, hash);
        }
    }

    /// <summary>
    /// pk mode (meepo's model) reads each row back from the source by its pk. Keys that are bytes or
    /// times must reach the query as such: a VARBINARY pk sent as its base64 text, or a TIMESTAMP as
    /// its event-format text, matches no row, and the job would delete a row that exists.
    /// </summary>
    [Fact]
    public async Task Pk_mode_reads_rows_back_by_binary_and_temporal_keys()
    {
        var schema = Servers.UniqueSchema("it_pkmode");
        await Servers.ExecuteAsync(
            $"CREATE DATABASE {schema}; " +
            $"CREATE TABLE {schema}.b (id VARBINARY(16) PRIMARY KEY, v INT); " +
            $"CREATE TABLE {schema}.d (at DATETIME(3), ts TIMESTAMP(6) NOT NULL, n BIT(5), v INT, PRIMARY KEY (at, ts, n)); " +
            $"INSERT INTO {schema}.b VALUES (0x00FF3A80, 7); " +
            $"SET time_zone = '+00:00'; INSERT INTO {schema}.d VALUES ('2026-11-24 06:30:00.125', '2026-11-24 06:30:01.000250', b'10101', 9)");
        var config = HoconLoader.LoadString($$"""
            replicator.sources.s { connection-string = {{System.Text.Json.JsonSerializer.Serialize(Servers.MariaDbCdc)}}, server-id = 7602 }
            replicator.definitions.d { topics = ["*"], mode = pk, job { redis = {{System.Text.Json.JsonSerializer.Serialize(Servers.Redis)}}, key-prefix = "{{_prefix}}" } }
            """);
        var settings = ReplicatorSettings.Create(config);
        var job = new RedisCacheJob(new JobContext(settings.Definitions[0], settings, _system, Logging.GetLogger(_system, "pk-job")));
        try
        {
            var binaryKey = new RowKey(["id"], [ColumnValue.FromBytes([0x00, 0xFF, 0x3A, 0x80])]);
            var temporalKey = new RowKey(["at", "ts", "n"], [
                ColumnValue.FromDateTime(2026, 11, 24, 6, 30, 0, 125_000, 3),
                ColumnValue.FromTimestamp(new DateTimeOffset(2026, 11, 24, 6, 30, 1, TimeSpan.Zero).ToUnixTimeSeconds(), 250, 6),
                ColumnValue.FromBit(0b10101, 5)]);
            var results = await job.ApplyAsync([PkItem(schema, "b", binaryKey, 500), PkItem(schema, "d", temporalKey, 501)], CancellationToken.None);
            Assert.All(results, r => Assert.True(r.Success && !r.Stale, r.Error));

            using var redis = Servers.ConnectRedis();
            var db = redis.GetDatabase();
            Assert.Equal("7", (string?)await db.HashGetAsync(RedisCacheJob.RowKeyOf(_prefix, schema, "b", binaryKey), "v"));
            Assert.Equal("9", (string?)await db.HashGetAsync(RedisCacheJob.RowKeyOf(_prefix, schema, "d", temporalKey), "v"));

            // A pk that is gone is deleted: the read really distinguishes.
            var gone = new RowKey(["id"], [ColumnValue.FromBytes([0x01])]);
            await db.HashSetAsync(RedisCacheJob.RowKeyOf(_prefix, schema, "b", gone), "v", "1");
            Assert.True((await job.ApplyAsync([PkItem(schema, "b", gone, 502)], CancellationToken.None))[0].Success);
            Assert.False(await db.KeyExistsAsync(RedisCacheJob.RowKeyOf(_prefix, schema, "b", gone)));
        }
        finally
        {
            await job.DisposeAsync();
            await Servers.ExecuteAsync($"DROP DATABASE {schema}");
        }
    }

    private static JobItem PkItem(string schema, string table, RowKey key, long position) =>
        new(key, new RowChange("s", schema, table, ChangeAction.Update, key, null, null,
            new ChangePosition("mariadb-bin.000001", position, null), new SourceVersion(1, position, 0), DateTime.UtcNow), 1);
}
