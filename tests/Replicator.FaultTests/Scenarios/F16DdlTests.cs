using System.Globalization;
using MySqlConnector;
using Replicator.Engine.Jobs;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.Engine.Schema;
using Replicator.FaultTests.Harness;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F16: statements that change a captured table's contents without row events, under load: a
/// <c>TRUNCATE</c> of <c>src.d</c>, a <c>DROP PARTITION</c> of <c>src.p</c>, and on <c>src.k</c> an
/// <c>ADD COLUMN</c> (which must not stop it) and then a primary-key change (<c>id</c> to
/// <c>code</c>). The generator writes <c>src.t</c> throughout and a second writer keeps updating
/// and inserting rows of the three tables. Each statement must stop its table loudly (its changes
/// held, the offset before it, a message naming the table, the statement and the fix) while
/// <c>src.t</c> goes on reaching the sink. Then the operator does what the message says: clears the
/// tables' keys, copies them from the source as of a binlog position P, sets
/// <c>resynced-through = P</c> and restarts the cluster. Everything must converge.
/// </summary>
public sealed class F16DdlTests(ITestOutputHelper output) : FaultScenario(output)
{
    private static readonly string[] SideTables = ["d", "p", "k"];

    [Fact]
    public Task F16_truncate_partition_drop_and_key_change_stop_their_tables_loudly_and_a_resync_converges() =>
        RunAsync(
            new ScenarioOptions("F16") { Changes = 30_000, ChangesPerSecond = 1000, ExtraTables = ["src.d", "src.p", "src.k"] },
            async run =>
            {
                using var stopSide = new CancellationTokenSource();
                var side = new SideWriter(run.Source.RootConnectionString, run.Options.Seed);
                var sideTask = Task.Run(() => side.RunAsync(stopSide.Token));
                var workload = run.RunWorkloadUntilStoppedAsync();
                await run.WaitForChangesAsync(run.Options.Changes / 3, workload);
                var stops = new Dictionary<string, string?>();
                (stops["d"], var truncateEnd) = await StatementAsync(run, side, "TRUNCATE TABLE src.d", "src.d", "TRUNCATE emptied it");
                (stops["p"], _) = await StatementAsync(run, side, "ALTER TABLE src.p DROP PARTITION p1", "src.p", "a partition operation moved rows");
                var addColumnAt = DateTime.UtcNow;
                using (await side.PauseAsync())
                {
                    await side.ExecuteAsync("ALTER TABLE src.k ADD COLUMN note VARCHAR(20) NULL");
                }

                run.Mark("ALTER TABLE src.k ADD COLUMN note (must not stop it)");
                await Task.Delay(TimeSpan.FromSeconds(3));
                var stoppedByAddColumn = PauseLines(run, addColumnAt, "src.k").Count > 0;
                (stops["k"], _) = await StatementAsync(run, side, "ALTER TABLE src.k DROP PRIMARY KEY, ADD PRIMARY KEY (code)", "src.k", "its primary key changed");

                // The other tables go on: with the generator held, src.t reaches the sink while the offset stays before the first statement.
                SinkComparison tWhileStopped;
                using (await run.Workload.PauseAsync())
                {
                    var redis = await run.Redis.ClientAsync();
                    tWhileStopped = await Eventually.UntilAsync(
                        () => SinkCheck.CompareAsync(run.Source.RootConnectionString, redis, run.Options.KeyPrefix),
                        c => c.Mismatched == 0,
                        TimeSpan.FromSeconds(90),
                        TimeSpan.FromSeconds(2));
                }

                var held = await run.CaptureStatusAsync();
                run.Mark($"src.t while the three tables are stopped: {tWhileStopped}; capture {held?.CaptureState}, persisted {held?.PersistedOffset}, outstanding {held?.Outstanding}");

                // The operator's resync, as the messages say: clear the tables' keys, copy them as of P, resynced-through = P, restart.
                string resyncedThrough;
                int copied;
                using (await side.PauseAsync())
                {
                    var (file, position) = await run.Source.MasterStatusAsync();
                    resyncedThrough = $"{file}:{position}";
                    copied = await ResyncAsync(run);
                }

                run.Mark($"src.d, src.p, src.k keys cleared and {copied} rows copied as of {resyncedThrough}");
                await run.RestartClusterAsync(() =>
                {
                    run.ResyncedThrough = resyncedThrough;
                    run.FaultInjected($"cluster restarted with resynced-through = {resyncedThrough}");
                    return Task.CompletedTask;
                });
                run.FaultHealed("the capture reads again");
                var restartedAt = DateTime.UtcNow;

                await run.WaitForChangesAsync(Math.Max(run.Options.Changes, run.Workload.AckedChanges + 5_000), workload);
                run.Workload.Stop();
                await workload;
                await stopSide.CancelAsync();
                await sideTask;
                var verdict = await QuiesceAndCheckAsync(run);
                var sideChecks = new Dictionary<string, SinkCheckResult>();
                foreach (var table in SideTables)
                {
                    sideChecks[table] = await new RedisCacheSinkChecker(run.Source.RootConnectionString, await run.Redis.ClientAsync(), run.Options.KeyPrefix).CheckAsync("src", table);
                    run.Mark($"src.{table}: {sideChecks[table]}");
                }

                var stoppedAfterResync = SideTables.Where(t => PauseLines(run, restartedAt, "src." + t).Count > 0).ToList();
                await ConcludeAsync(
                    run,
                    verdict,
                    (report, problems) =>
                    {
                        foreach (var (table, line) in stops)
                        {
                            Expect(problems, line is not null, $"src.{table} was not stopped with its reason within 30 s of its statement");
                            Expect(problems, line is null || line.Contains("resynced-through", StringComparison.Ordinal), $"src.{table}'s stop does not say to set resynced-through: {line}");
                            Expect(problems, line is null || table == "p" || line.Contains($"src:{table}:*", StringComparison.Ordinal), $"src.{table}'s stop does not name the keys to clear: {line}");
                        }

                        Expect(problems, !stoppedByAddColumn, "ALTER TABLE src.k ADD COLUMN stopped the table");
                        Expect(problems, tWhileStopped.Mismatched == 0, $"src.t did not reach the sink while the three tables were stopped: {tWhileStopped}");
                        Expect(problems, BinlogPoint.Parse(held?.PersistedOffset) is { } persisted && persisted < truncateEnd, $"the persisted offset ({held?.PersistedOffset}) moved past the TRUNCATE (which ends by {truncateEnd}) while src.d was stopped");
                        Expect(problems, stoppedAfterResync.Count == 0, $"after the resync, {string.Join(", ", stoppedAfterResync)} stopped again");
                        foreach (var (table, check) in sideChecks)
                        {
                            Expect(problems, check.Matches, $"src.{table} after the resync: {check}");
                        }
                    },
                    report =>
                    {
                        report.Extra["side_changes"] = side.Changes;
                        report.Extra["rows_copied"] = copied;
                        report.Extra["resynced_through"] = resyncedThrough;
                        foreach (var (table, check) in sideChecks)
                        {
                            report.Extra[$"{table}_missing_in_sink"] = check.MissingInSink;
                            report.Extra[$"{table}_extra_in_sink"] = check.ExtraInSink;
                            report.Extra[$"{table}_different"] = check.Different;
                        }
                    });
            },
            beforeNodes: run => run.Source.ExecuteAsync(SideWriter.Schema));

    /// <summary>
    /// Runs a statement on a side table (the side writer held meanwhile), then waits up to 30 s for
    /// the capture to log that it stopped the table with <paramref name="reason"/>; returns that line
    /// (or null) and the binlog's end right after the statement.
    /// </summary>
    private static async Task<(string? Line, BinlogPoint End)> StatementAsync(FaultRun run, SideWriter side, string sql, string table, string reason)
    {
        var at = DateTime.UtcNow;
        BinlogPoint end;
        using (await side.PauseAsync())
        {
            await side.ExecuteAsync(sql);
            var (file, position) = await run.Source.MasterStatusAsync();
            end = new BinlogPoint(file, position, 0);
        }

        run.Mark(sql);
        var deadline = at + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (PauseLines(run, at, table).FirstOrDefault(l => l.Contains(reason, StringComparison.Ordinal)) is { } line)
            {
                run.Mark($"{table} stopped after {(DateTime.UtcNow - at).TotalSeconds:0.0} s: {line[(line.IndexOf("table ", StringComparison.Ordinal) is var i && i >= 0 ? i : 0)..]}");
                return (line, end);
            }

            await Task.Delay(250);
        }

        return (null, end);
    }

    /// <summary>The capture's log lines since <paramref name="sinceUtc"/> that say it stopped <paramref name="table"/>.</summary>
    private static List<string> PauseLines(FaultRun run, DateTime sinceUtc, string table) =>
        [.. LogFacts.LinesSince(run.Nodes, sinceUtc).Where(l => l.Contains($"table {table} is paused", StringComparison.Ordinal))];

    /// <summary>Clears src.d, src.p and src.k's keys in the sink and copies their rows from the source as `replicator check` reads them; returns the rows copied.</summary>
    private static async Task<int> ResyncAsync(FaultRun run)
    {
        var redis = await run.Redis.ClientAsync();
        var database = redis.GetDatabase();
        var server = redis.GetServers()[0];
        await using var reader = new SourceRowReader(run.Source.RootConnectionString, maxConnections: 2);
        var copied = 0;
        foreach (var table in SideTables)
        {
            var prefix = $"{run.Options.KeyPrefix}src:{table}:";
            await foreach (var key in server.KeysAsync(pattern: prefix + "*"))
            {
                await database.KeyDeleteAsync(key);
            }

            reader.Invalidate("src", table);
            var columns = await reader.ColumnsAsync("src", table);
            foreach (var (pk, row) in await reader.ReadAllAsync("src", table))
            {
                var fields = new List<HashEntry>();
                for (var i = 0; i < columns.Names.Count; i++)
                {
                    if (row.Values[i] is { } value)
                    {
                        fields.Add(new HashEntry(columns.Names[i], value is byte[] bytes ? (RedisValue)bytes : (string)value));
                    }
                }

                await database.HashSetAsync(prefix + pk, [.. fields]);
                copied++;
            }
        }

        return copied;
    }

    /// <summary>Writes src.d, src.p and src.k: an update of a row of each and now and then an insert, ten transactions a second.</summary>
    private sealed class SideWriter(string connectionString, int seed)
    {
        private readonly Random _random = new(seed);
        private readonly SemaphoreSlim _gate = new(1, 1);
        private MySqlConnection? _connection;
        private int _next = 5000;

        public static string Schema => """
            CREATE TABLE src.d (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(32));
            CREATE TABLE src.p (id INT PRIMARY KEY, v INT NOT NULL) PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (1000), PARTITION p1 VALUES LESS THAN (2000), PARTITION p2 VALUES LESS THAN MAXVALUE);
            CREATE TABLE src.k (id INT PRIMARY KEY, code INT NOT NULL UNIQUE, v INT NOT NULL);
            INSERT INTO src.d SELECT seq, seq, CONCAT('d', seq) FROM src.seq_1_to_300;
            INSERT INTO src.p SELECT seq, seq FROM src.seq_1_to_2999;
            INSERT INTO src.k SELECT seq, 100000 + seq, seq FROM src.seq_1_to_300;
            """;

        public long Changes { get; private set; }

        public async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                using (await PauseAsync())
                {
                    var id = 1 + _random.Next(300);
                    var pid = 1 + _random.Next(2999);
                    var sql = $"""
                        UPDATE src.d SET v = v + 1 WHERE id = {id};
                        UPDATE src.p SET v = v + 1 WHERE id = {pid};
                        UPDATE src.k SET v = v + 1 WHERE code = {100000 + id};
                        """;
                    if (_random.Next(4) == 0)
                    {
                        var n = ++_next;
                        sql += $"INSERT INTO src.d VALUES ({n}, {n}, 'new'); INSERT INTO src.p VALUES ({n}, {n}); INSERT INTO src.k (id, code, v) VALUES ({n}, {100000 + n}, {n});";
                    }

                    await ExecuteLockedAsync("START TRANSACTION;" + sql + "COMMIT;");
                    Changes += 3;
                }

                try
                {
                    await Task.Delay(100, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>Holds the writer between transactions until the handle is disposed.</summary>
        public async Task<IDisposable> PauseAsync()
        {
            await _gate.WaitAsync();
            return new Releaser(_gate);
        }

        /// <summary>Runs a statement on the writer's connection; the caller holds <see cref="PauseAsync"/>.</summary>
        public Task ExecuteAsync(string sql) => ExecuteLockedAsync(sql);

        private async Task ExecuteLockedAsync(string sql)
        {
            if (_connection is null)
            {
                _connection = new MySqlConnection(new MySqlConnectionStringBuilder(connectionString) { Database = "src" }.ConnectionString);
                await _connection.OpenAsync();
            }

            await using var command = new MySqlCommand(sql, _connection);
            await command.ExecuteNonQueryAsync();
        }

        private sealed class Releaser(SemaphoreSlim gate) : IDisposable
        {
            public void Dispose() => gate.Release();
        }
    }
}
