using System.Diagnostics;
using Akka.Cluster;
using Akka.Configuration;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;
using Replicator.Engine;
using Replicator.Engine.Configuration;
using StackExchange.Redis;

namespace Replicator.Bench.Pipeline;

/// <summary>
/// Issue 4's benchmarks, side by side in one run over one workload:
/// the full pipeline (capture, sharding, dedupe, Redis job, offset commits) on one node against a
/// minimal pipeline with no framework (binlog → pipelined HSET/DEL); the same on a hot-key
/// workload; and scale-out with a 5 ms-per-batch sink on 1, 2 and 3 worker nodes.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var admin = Environment.GetEnvironmentVariable("REPLICATOR_MARIADB_ADMIN") ?? throw new InvalidOperationException("Run through bench/pipeline/run.sh (it sets REPLICATOR_MARIADB_ADMIN).");
        var cdc = Environment.GetEnvironmentVariable("REPLICATOR_MARIADB_CDC")!;
        var redis = Environment.GetEnvironmentVariable("REPLICATOR_REDIS")!;
        var transactions = args.Length > 0 && char.IsDigit(args[0][0]) ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
        var repeat = Option(args, "--repeat") is { } times ? int.Parse(times, System.Globalization.CultureInfo.InvariantCulture) : 3;
        var only = Option(args, "--only");
        if (args.Length > 1 && args[1] == "--reuse")
        {
            // Diagnostics: the full pipeline over an existing range (file:pos file:pos schema), once
            // per job named after it (noop, redis; default both), each on a fresh node and empty keys.
            var range = new Workload.Range(Parse(args[2]), Parse(args[3]), transactions * 100L);
            using var keys = await ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
            foreach (var run in args.Length > 5 ? args[5..] : ["noop", "redis"])
            {
                await ClearAsync(keys, "bench:");
                var job = run == "noop" ? typeof(NullJob).AssemblyQualifiedName! : "redis-cache";
                var result = await FullPipelineAsync(cdc, redis, range, args[4], job);
                Console.WriteLine($"{run}: {range.Changes / result.Elapsed.TotalSeconds:N0} changes/s; CPU-µs per change: {result.Cpu.Describe(range.Changes)}");
            }

            return 0;
        }

        if (only is null or "throughput")
        {
            await ThroughputAsync(admin, cdc, redis, transactions, repeat);
        }

        if (only is null or "scale")
        {
            await ScaleOutTableAsync(admin, cdc, transactions, repeat);
        }

        return 0;
    }

    private static string? Option(string[] args, string name) =>
        Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;

    /// <summary>The median run of <paramref name="repeat"/> by elapsed time: one node's JIT, GC and scheduling make single runs vary by a fifth.</summary>
    private static async Task<T> MedianAsync<T>(int repeat, Func<Task<T>> run, Func<T, TimeSpan> elapsed)
    {
        var runs = new List<T>();
        for (var i = 0; i < repeat; i++)
        {
            runs.Add(await run());
        }

        return runs.OrderBy(elapsed).ElementAt(runs.Count / 2);
    }

    private static async Task ThroughputAsync(string admin, string cdc, string redis, int transactions, int repeat)
    {
        Console.WriteLine($"building the workload: {transactions:N0} transactions x 100 changes");
        var mixed = await Workload.BuildAsync(admin, "bench_pipeline", transactions);
        var hot = await Workload.BuildHotAsync(admin, "bench_hot", transactions);
        Console.WriteLine($"mixed: {mixed.Start} .. {mixed.End}; hot keys: {hot.Start} .. {hot.End}; each pipeline runs {repeat} times, the median run is shown");

        using var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
        var rows = new List<string[]>();
        var budget = new List<string>();

        foreach (var (name, range, schema) in new[] { ("mixed 1M", mixed, "bench_pipeline"), ("hot keys", hot, "bench_hot") })
        {
            var baseline = await MedianAsync(
                repeat,
                async () =>
                {
                    await ClearAsync(multiplexer, "bench:");
                    return await MinimalPipelineAsync(cdc, multiplexer, range);
                },
                r => r.Elapsed);
            var full = await MedianAsync(
                repeat,
                async () =>
                {
                    await ClearAsync(multiplexer, "bench:");
                    return await FullPipelineAsync(cdc, redis, range, schema);
                },
                r => r.Elapsed);
            rows.Add([name, $"{range.Changes:N0}", Rate(range.Changes, baseline.Elapsed), $"{baseline.Writes:N0}", Rate(range.Changes, full.Elapsed), $"{full.Writes:N0}", $"{baseline.Elapsed / full.Elapsed:0.00}"]);
            budget.Add(baseline.Cpu.Row(name, "minimal", range.Changes, baseline.Elapsed));
            budget.Add(full.Cpu.Row(name, "full", range.Changes, full.Elapsed));
        }

        Console.WriteLine();
        Console.WriteLine("| workload | changes | minimal pipeline (changes/s) | its writes | full pipeline (changes/s) | its writes | full / minimal |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            Console.WriteLine("| " + string.Join(" | ", row) + " |");
        }

        Console.WriteLine();
        Console.WriteLine($"CPU per change while each pipeline ran ({Environment.ProcessorCount} cores here; 150,000 changes/s leaves {Environment.ProcessorCount * 1e6 / 150_000:0.0} CPU-µs per change in all):");
        Console.WriteLine("| workload | pipeline | replicator (this process) | redis | mariadb | total | cores busy |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        budget.ForEach(Console.WriteLine);
    }

    private static async Task ScaleOutTableAsync(string admin, string cdc, int transactions, int repeat)
    {
        var scaleRange = await Workload.BuildAsync(admin, "bench_scale", Math.Max(100, transactions / 10));
        Console.WriteLine();
        Console.WriteLine($"scale-out: {scaleRange.Changes:N0} changes, sink 5 ms per batch of 50, one batch at a time per node; median of {repeat} runs");
        Console.WriteLine("| worker nodes | changes/s | vs 1 node |");
        Console.WriteLine("|---|---|---|");
        double? one = null;
        for (var workers = 1; workers <= 3; workers++)
        {
            var elapsed = await MedianAsync(repeat, () => ScaleOutAsync(admin, cdc, scaleRange, "bench_scale", workers), e => e);
            var rate = scaleRange.Changes / elapsed.TotalSeconds;
            one ??= rate;
            Console.WriteLine($"| {workers} | {rate:N0} | {rate / one:0.00}x |");
        }
    }

    private static BinlogPosition Parse(string text) => new(text[..text.LastIndexOf(':')], long.Parse(text[(text.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static string Rate(long changes, TimeSpan elapsed) => $"{changes / elapsed.TotalSeconds:N0}";

    private static async Task ClearAsync(ConnectionMultiplexer multiplexer, string prefix)
    {
        var server = multiplexer.GetServers()[0];
        var db = multiplexer.GetDatabase();
        var batch = new List<RedisKey>();
        await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 5000))
        {
            batch.Add(key);
            if (batch.Count == 5000)
            {
                await db.KeyDeleteAsync(batch.ToArray());
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            await db.KeyDeleteAsync(batch.ToArray());
        }
    }

    /// <summary>The baseline: decode the binlog range and send HSET/DEL for every row, pipelined, no dedupe, no fencing, no offsets.</summary>
    private static async Task<(TimeSpan Elapsed, long Writes, CpuUse Cpu)> MinimalPipelineAsync(string cdc, ConnectionMultiplexer multiplexer, Workload.Range range)
    {
        var db = multiplexer.GetDatabase();
        var options = BinlogClientOptions.FromConnectionString(cdc) with { ServerId = 9901, Start = StartPosition.At(range.Start), Blocking = false };
        var cpu = await CpuUse.StartAsync(multiplexer);
        var clock = Stopwatch.StartNew();
        var pending = new List<Task>(20_000);
        long writes = 0;
        await using var client = new BinlogClient(options);
        await foreach (var binlogEvent in client.ReadEventsAsync())
        {
            if (binlogEvent is RowsEvent rows && rows.Table.Table == "t")
            {
                foreach (var row in rows.Rows)
                {
                    var image = row.After ?? row.Before!;
                    var key = $"bench:{rows.Table.Schema}:t:{image[0]}";
                    if (row.After is null)
                    {
                        pending.Add(db.KeyDeleteAsync(key));
                    }
                    else
                    {
                        var entries = new HashEntry[image.Length];
                        for (var i = 0; i < image.Length; i++)
                        {
                            entries[i] = new HashEntry(rows.Table.Columns[i].Name, image[i].ToString());
                        }

                        pending.Add(db.HashSetAsync(key, entries));
                    }

                    writes++;
                    if (pending.Count >= 20_000)
                    {
                        await Task.WhenAll(pending);
                        pending.Clear();
                    }
                }
            }

            if (client.Position is { } position && position >= range.End)
            {
                break;
            }
        }

        await Task.WhenAll(pending);
        var elapsed = clock.Elapsed;
        return (elapsed, writes, await cpu.StopAsync());
    }

    // Every node's capture registers with its own server id: MariaDB refuses a second dump with the
    // id of one it has not yet noticed is gone (error 4052), which would clock a retry into a run.
    private static int _serverId = 9902;

    private static Config NodeConfig(string cdc, string redis, Workload.Range range, string schema, string dataDir, string roles, string seed, string job, int batch, string? persistence = null) =>
        HoconLoader.LoadString($$"""
            akka.loglevel = WARNING
            # Nodes stopping one after another at the end of a scale-out run are expected, not news.
            akka.remote.log-remote-lifecycle-events = off
            akka.cluster.singleton-proxy.log-singleton-identification-failure = off
            akka.cluster.roles = [{{roles}}]
            akka.cluster.seed-nodes = [{{seed}}]
            replicator {
              data-dir = {{Json(dataDir)}}
              capture.max-in-flight = 20000
              sources.bench {
                connection-string = {{Json(cdc)}}
                server-id = {{Interlocked.Increment(ref _serverId)}}
                tables = ["{{schema}}.t"]
                start = "{{range.Start.File}}:{{range.Start.Position}}"
              }
              definitions.bench {
                topics = ["*"]
                buckets = 64
                batch-size = {{batch}}
                job {
                  type = {{Json(job)}}
                  redis = {{Json(redis)}}
                  key-prefix = "bench:"
                }
              }
              {{(persistence is null ? "" : $"persistence {{ provider = mysql, connection-string = {Json(persistence)} }}")}}
            }
            """);

    private static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    /// <summary>The whole product on one node: from its start until the capture's offset passed the range's end with nothing outstanding.</summary>
    private static async Task<(TimeSpan Elapsed, long Writes, CpuUse Cpu)> FullPipelineAsync(string cdc, string redis, Workload.Range range, string schema, string job = "redis-cache")
    {
        var data = Directory.CreateTempSubdirectory("replicator-bench-").FullName;
        try
        {
            // Clocked from the node being Up (its capture starts reading then) to the end of the range applied.
            using var redisAdmin = await ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
            var node = await ReplicatorNode.StartAsync(NodeConfig(cdc, redis, range, schema, data, "capture, worker", "", job, 500));
            var cpu = await CpuUse.StartAsync(redisAdmin);
            var clock = Stopwatch.StartNew();
            await WaitForRangeAsync(node, range);
            var elapsed = clock.Elapsed;
            await cpu.StopAsync();
            var writes = node.Metrics.Definition("bench").Applied;
            await node.StopAsync();
            return (elapsed, writes, cpu);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<TimeSpan> ScaleOutAsync(string admin, string cdc, Workload.Range range, string schema, int workers)
    {
        var directories = new List<string>();
        var nodes = new List<ReplicatorNode>();

        // A cluster shares one journal (the embedded one is per node); a fresh one per run, so each run starts at the range.
        var state = $"bench_state_{Guid.NewGuid():N}"[..20];
        await using (var connection = new MySqlConnector.MySqlConnection(admin))
        {
            await connection.OpenAsync();
            await new MySqlConnector.MySqlCommand($"CREATE DATABASE {state}", connection).ExecuteNonQueryAsync();
        }

        var persistence = new MySqlConnector.MySqlConnectionStringBuilder(admin) { Database = state }.ConnectionString;
        try
        {
            string? seed = null;
            for (var i = 0; i < workers; i++)
            {
                var data = Directory.CreateTempSubdirectory("replicator-scale-").FullName;
                directories.Add(data);
                var node = await ReplicatorNode.StartAsync(NodeConfig(cdc, "127.0.0.1:1", range, schema, data, "worker", seed is null ? "" : Json(seed), typeof(SlowSinkJob).AssemblyQualifiedName!, 50, persistence));
                seed ??= Cluster.Get(node.System).SelfAddress.ToString();
                nodes.Add(node);
            }

            var captureData = Directory.CreateTempSubdirectory("replicator-scale-").FullName;
            directories.Add(captureData);
            var capture = await ReplicatorNode.StartAsync(NodeConfig(cdc, "127.0.0.1:1", range, schema, captureData, "capture", Json(seed!), typeof(SlowSinkJob).AssemblyQualifiedName!, 50, persistence));
            nodes.Add(capture);
            var clock = Stopwatch.StartNew();
            await WaitForRangeAsync(capture, range);
            return clock.Elapsed;
        }
        finally
        {
            foreach (var node in Enumerable.Reverse(nodes))
            {
                await node.StopAsync();
            }

            foreach (var directory in directories)
            {
                Directory.Delete(directory, recursive: true);
            }

            await using var connection = new MySqlConnector.MySqlConnection(admin);
            await connection.OpenAsync();
            await new MySqlConnector.MySqlCommand($"DROP DATABASE IF EXISTS {state}", connection).ExecuteNonQueryAsync();
        }
    }

    private static async Task WaitForRangeAsync(ReplicatorNode node, Workload.Range range)
    {
        while (true)
        {
            try
            {
                var status = await node.GetCaptureStatusAsync("bench", TimeSpan.FromSeconds(2));
                if (status.CurrentOffset is { } offset && offset.Position >= range.End && offset.SkipRows == 0 && status.Outstanding == 0)
                {
                    return;
                }
            }
            catch (Akka.Actor.AskTimeoutException)
            {
            }

            await Task.Delay(50);
        }
    }
}
