using MySqlConnector;
using Replicator.Binlog.Positions;
using Replicator.Engine;
using Replicator.Engine.Capture;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.IntegrationTests.Infrastructure;
using Replicator.Jobs;
using Xunit.Abstractions;

namespace Replicator.IntegrationTests;

/// <summary>The Redis job, failing the pks in <see cref="Failing"/> with an error of several megabytes (as a sink error that echoes a huge value).</summary>
public sealed class HugeErrorRedisJob(Engine.Jobs.JobContext context) : IReplicationJob
{
    public const string ErrorStart = "ERR Error running script: value too large: ";

    public static readonly HashSet<string> Failing = [];

    private static readonly string Error = ErrorStart + new string('v', 3_000_000);

    private readonly Engine.Jobs.RedisCache.RedisCacheJob _inner = new(context);

    public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        bool Fails(JobItem item)
        {
            lock (Failing)
            {
                return Failing.Contains(item.Key.Canonical);
            }
        }

        var failing = batch.Select(Fails).ToList();
        var applied = await _inner.ApplyAsync(batch.Where((_, i) => !failing[i]).ToList(), cancellationToken);
        var results = new ApplyResult[batch.Count];
        var next = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            results[i] = failing[i] ? ApplyResult.Failed(Error) : applied[next++];
        }

        return results;
    }

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}

/// <summary>
/// Wide rows between two nodes: the capture on one, every bucket on the other, so each delivery
/// crosses remoting (and its frame limit) as it would between machines, with serialize-messages on.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class WideRowTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Columns = "id INT PRIMARY KEY, body MEDIUMTEXT";

    private readonly string _schema = Servers.UniqueSchema("it_wide");
    private readonly string _state = Servers.UniqueSchema("it_wstate");
    private readonly List<ReplicatorNode> _nodes = [];
    private readonly List<string> _directories = [];

    private string Prefix => _schema + ":";

    public async Task InitializeAsync()
    {
        var wide = string.Join(", ", Enumerable.Range(1, 40).Select(i => $"c{i} VARCHAR(255)"));
        await Servers.ExecuteAsync(
            $"CREATE DATABASE {_schema}; CREATE DATABASE {_state}; " +
            $"CREATE TABLE {_schema}.wide (id INT PRIMARY KEY, {wide}, body MEDIUMTEXT); " +
            $"CREATE TABLE {_schema}.big ({Columns}); CREATE TABLE {_schema}.small (id INT PRIMARY KEY, v INT)");
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Where(n => !n.System.WhenTerminated.IsCompleted))
        {
            await node.StopAsync();
        }

        await Servers.ExecuteAsync($"DROP DATABASE IF EXISTS {_schema}; DROP DATABASE IF EXISTS {_state}");
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// 600 rows of 40 filled columns (200 to a delivery is over 1.6 MB) and 12 rows with a 300 KB
    /// TEXT: every one reaches Redis through the other node, and the offset reaches the binlog's end.
    /// </summary>
    [Fact]
    public async Task Wide_rows_reach_buckets_on_another_node_and_the_offset_reaches_the_end_of_the_binlog()
    {
        var (capture, _) = await StartTwoNodesAsync(7801);
        var filled = string.Join(", ", Enumerable.Range(1, 40).Select(i => $"REPEAT(CHAR(64 + {i % 26 + 1}), 200)"));
        await Servers.ExecuteAsync(
            $"INSERT INTO {_schema}.wide SELECT seq, {filled}, CONCAT('b-', seq) FROM {_schema}.seq_1_to_600; " +
            $"UPDATE {_schema}.wide SET body = CONCAT(id, REPEAT('t', 300000)) WHERE id <= 12");
        var end = await SourceEndAsync();

        using var redis = Servers.ConnectRedis();
        var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, Prefix);
        var result = await Eventually.UntilAsync(() => checker.CheckAsync(_schema, "wide"), r => r.Matches, TimeSpan.FromSeconds(90));
        Assert.True(result.Matches, result + "\n" + string.Join("\n", result.Examples));
        Assert.Equal(600, result.SourceRows);
        var longest = await Servers.ScalarAsync<long>($"SELECT MAX(LENGTH(body)) FROM {_schema}.wide");
        Assert.True(longest > 290_000, $"the longest body is {longest} bytes");

        var status = await Eventually.UntilAsync(() => capture.GetCaptureStatusAsync("it"), s => s.PersistedOffset is { } o && o.Position >= end, TimeSpan.FromSeconds(30));
        output.WriteLine($"offset {status.PersistedOffset}, binlog end {end}");
        Assert.True(status.PersistedOffset!.Position >= end, $"offset {status.PersistedOffset} did not reach {end}");
        Assert.Equal(0, status.Outstanding);
        Assert.Null(status.LastError);
    }

    /// <summary>
    /// A row larger than any frame can never reach a remote bucket: its table pauses with an error
    /// that names it, its pk, its size and the setting to raise; the other tables go on; the offset
    /// holds before it; and with the frame raised the row arrives after all.
    /// </summary>
    [Fact]
    public async Task A_row_larger_than_the_frame_pauses_its_table_with_a_clear_error_and_holds_the_offset_until_the_frame_is_raised()
    {
        var (capture, worker) = await StartTwoNodesAsync(7802, "replicator.capture { max-frame-size = 256KiB, max-delivery-bytes = 64KiB }");
        using var redis = Servers.ConnectRedis();
        var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, Prefix);
        await Servers.ExecuteAsync($"INSERT INTO {_schema}.small VALUES (1, 1); INSERT INTO {_schema}.big VALUES (1, 'small enough')");
        await Eventually.UntilAsync(() => checker.CheckAsync(_schema, "big"), r => r.Matches && r.SourceRows == 1, TimeSpan.FromSeconds(30));
        var before = await SourceEndAsync();

        await Servers.ExecuteAsync($"INSERT INTO {_schema}.big VALUES (2, REPEAT('x', 300000)); INSERT INTO {_schema}.small VALUES (2, 2); INSERT INTO {_schema}.big VALUES (3, 'after')");
        var paused = await Eventually.UntilAsync(() => capture.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(30));
        output.WriteLine(paused.LastError);
        Assert.Equal(CaptureState.TablePaused, paused.State);
        Assert.Contains($"{_schema}.big", paused.LastError);
        Assert.Contains("pk 2", paused.LastError);
        Assert.Contains("replicator.capture.max-frame-size", paused.LastError);
        Assert.Matches(@"\b30\d,\d{3} bytes", paused.LastError);

        // The other table goes on; the offset stays before the row that cannot be sent.
        await Servers.ExecuteAsync($"INSERT INTO {_schema}.small VALUES (3, 3)");
        var small = await Eventually.UntilAsync(() => checker.CheckAsync(_schema, "small"), r => r.Matches && r.SourceRows == 3, TimeSpan.FromSeconds(30));
        Assert.True(small.Matches, small.ToString());
        await Task.Delay(1000);
        var held = await capture.GetCaptureStatusAsync("it");
        var bigStart = await TransactionStartAsync(before, $"{_schema}.big");
        Assert.True(held.PersistedOffset!.Position <= bigStart, $"offset {held.PersistedOffset} passed the big row, whose transaction starts at {bigStart}");
        var big = await checker.CheckAsync(_schema, "big");
        Assert.Equal(1, big.SinkRows);

        // Raised, the row goes through from the held offset, and nothing after it is lost.
        await capture.StopAsync();
        await worker.StopAsync();
        var (again, _) = await StartTwoNodesAsync(7802, "replicator.capture.max-frame-size = 1MiB", reuseDirectories: true);
        var converged = await Eventually.UntilAsync(() => checker.CheckAsync(_schema, "big"), r => r.Matches, TimeSpan.FromSeconds(60));
        Assert.True(converged.Matches, converged + "\n" + string.Join("\n", converged.Examples));
        Assert.Equal(3, converged.SourceRows);
        Assert.Null((await again.GetCaptureStatusAsync("it")).LastError);
    }

    /// <summary>
    /// A sink error of several megabytes (a Redis error echoing a huge value) on a pk whose letter is
    /// stored on the worker node: it is parked and stored, listed from the capture node (the reply
    /// crosses remoting, with a 256 KiB frame), and once the sink is repaired retried and applied.
    /// </summary>
    [Fact]
    public async Task A_sink_error_of_several_megabytes_is_parked_stored_listed_from_another_node_and_retried()
    {
        lock (HugeErrorRedisJob.Failing)
        {
            HugeErrorRedisJob.Failing.Add("7");
        }

        try
        {
            var (capture, _) = await StartTwoNodesAsync(7803, """
                replicator.capture { max-frame-size = 256KiB, max-delivery-bytes = 64KiB }
                replicator.definitions.cache {
                  retry { initial = 100ms, max = 200ms, max-attempts = 2, jitter = 0 }
                  job.type = "Replicator.IntegrationTests.HugeErrorRedisJob, Replicator.IntegrationTests"
                }
                """);
            using var redis = Servers.ConnectRedis();
            var checker = new RedisCacheSinkChecker(Servers.MariaDbCdc, redis, Prefix);
            await Servers.ExecuteAsync($"INSERT INTO {_schema}.small SELECT seq, seq FROM {_schema}.seq_1_to_10");
            var end = await SourceEndAsync();

            var listed = await Eventually.UntilAsync(() => ListedAsync(capture), page => page?.Entries.Count == 1, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
            Assert.NotNull(listed);
            var letter = Assert.Single(listed.Entries);
            Assert.Equal("7", letter.Change.Key.Canonical);
            Assert.StartsWith(HugeErrorRedisJob.ErrorStart, letter.Error);
            Assert.EndsWith("more characters cut]", letter.Error);
            Assert.Equal((1, (int?)null), (listed.Total, listed.Next));

            // Parked means finished: the offset moves past the pk.
            var moved = await Eventually.UntilAsync(() => capture.GetCaptureStatusAsync("it"), s => s.PersistedOffset is { } o && o.Position >= end, TimeSpan.FromSeconds(30));
            Assert.True(moved.PersistedOffset!.Position >= end, $"offset {moved.PersistedOffset} did not pass {end}");

            lock (HugeErrorRedisJob.Failing)
            {
                HugeErrorRedisJob.Failing.Clear();
            }

            Assert.Equal(1, (await capture.RetryDeadLettersAsync("cache", TimeSpan.FromSeconds(10))).Count);
            var emptied = await Eventually.UntilAsync(() => ListedAsync(capture), page => page?.Total == 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
            Assert.Equal(0, emptied?.Total);
            var result = await Eventually.UntilAsync(() => checker.CheckAsync(_schema, "small"), r => r.Matches, TimeSpan.FromSeconds(30));
            Assert.True(result.Matches, result.ToString());
            Assert.Equal(10, result.SinkRows);
        }
        finally
        {
            lock (HugeErrorRedisJob.Failing)
            {
                HugeErrorRedisJob.Failing.Clear();
            }
        }

        // A reply dropped for its size never arrives: the ask times out.
        static async Task<Engine.Replication.DeadLetterPage?> ListedAsync(ReplicatorNode node)
        {
            try
            {
                return await node.ListDeadLettersAsync("cache", timeout: TimeSpan.FromSeconds(3));
            }
            catch (Akka.Actor.AskTimeoutException)
            {
                return null;
            }
        }
    }

    /// <summary>A capture-only node (the seed, so the capture runs there) and a worker-only node that hosts every bucket.</summary>
    private async Task<(ReplicatorNode Capture, ReplicatorNode Worker)> StartTwoNodesAsync(int serverId, string extra = "", bool reuseDirectories = false)
    {
        var persistence = new MySqlConnectionStringBuilder(Servers.MariaDbAdmin) { Database = _state }.ConnectionString;
        Akka.Configuration.Config Config(string roles, string? seed, int index)
        {
            if (!reuseDirectories)
            {
                _directories.Add(Directory.CreateTempSubdirectory("replicator-wide-").FullName);
            }

            return TestNode.Config(_directories[index], _schema, Prefix, serverId, InProcessOnlySerializer.Config + $$"""

                akka.cluster.roles = [{{roles}}]
                akka.cluster.seed-nodes = [{{(seed is null ? "" : $"\"{seed}\"")}}]
                replicator.persistence {
                  provider = mysql
                  connection-string = {{System.Text.Json.JsonSerializer.Serialize(persistence)}}
                }
                {{extra}}
                """);
        }

        var capture = await ReplicatorNode.StartAsync(Config("capture", null, 0));
        _nodes.Add(capture);
        var worker = await ReplicatorNode.StartAsync(Config("worker", Akka.Cluster.Cluster.Get(capture.System).SelfAddress.ToString(), 1));
        _nodes.Add(worker);
        await TestNode.WaitForCaptureAsync(capture, "it");
        return (capture, worker);
    }

    /// <summary>
    /// Where the first transaction after <paramref name="from"/> that writes <paramref name="table"/>
    /// starts (its GTID event), read from the binlog. Not the binlog's end read before the write: the
    /// journal lives on this server, and each offset the capture persists is a transaction there that
    /// the capture reads past, so the held offset lands after the end read earlier, at the row's own
    /// transaction.
    /// </summary>
    private static async Task<BinlogPosition> TransactionStartAsync(BinlogPosition from, string table)
    {
        await using var connection = await Servers.OpenAdminAsync();
        await using var command = new MySqlCommand($"SHOW BINLOG EVENTS IN '{from.File}' FROM {from.Position}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        long? start = null;
        while (await reader.ReadAsync())
        {
            var type = reader.GetString("Event_type");
            if (type == "Gtid")
            {
                start = reader.GetInt64("Pos");
            }
            else if (type == "Table_map" && reader.GetString("Info").EndsWith($"({table})", StringComparison.Ordinal) && start is { } at)
            {
                return new BinlogPosition(from.File, at);
            }
        }

        throw new InvalidOperationException($"No transaction writes {table} in {from.File} after {from}");
    }

    private static async Task<BinlogPosition> SourceEndAsync()
    {
        await using var connection = await Servers.OpenAdminAsync();
        await using var command = new MySqlCommand("SHOW MASTER STATUS", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new BinlogPosition(reader.GetString(0), reader.GetInt64(1));
    }
}
