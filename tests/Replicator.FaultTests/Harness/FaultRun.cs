using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MySqlConnector;
using Replicator.Engine.Jobs;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.Host.Commands;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// One scenario's world (FAULTS.md §4.1): a source MariaDB, a second MariaDB for the Akka journal
/// (so killing the source leaves the journal up), a Redis, three <c>replicator run</c> nodes with
/// roles [capture, worker] and the test SBR timings, the workload generator, a binlog reader
/// monitor, and a sampler of capture lag and memory. It runs the fault, waits for quiescence,
/// checks the sink and builds the report; disposing kills every process it started.
/// </summary>
public sealed class FaultRun : IAsyncDisposable
{
    public const string SourceName = "src";
    public const string Definition = "cache";
    // Canary secrets (FAULTS.md §3.4): no node log may ever contain them.
    private readonly string _cdcPassword = "CANARY-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _journalPassword = "CANARY-" + Guid.NewGuid().ToString("N")[..12];
    private const uint ReaderServerId = 4242;

    private readonly ITestOutputHelper _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DateTime _startedUtc = DateTime.UtcNow;
    private readonly List<string> _timeline = [];
    private readonly List<Sample> _samples = [];

    // Faults injected, with when each was healed (a server or node started again), if it was.
    private readonly List<(DateTime Armed, DateTime Injected, DateTime? Healed)> _faults = [];
    private DateTime? _arming;
    private readonly CancellationTokenSource _stop = new();
    private Task? _sampler;
    private ConnectionMultiplexer? _redisClient;

    private FaultRun(ScenarioOptions options, ITestOutputHelper output, string servers, string evidence)
    {
        Options = options;
        _output = output;
        ServersDirectory = servers;
        Evidence = evidence;
    }

    public ScenarioOptions Options { get; }

    public string ServersDirectory { get; }

    /// <summary>artifacts/faults/&lt;scenario&gt;: node logs, ledgers, servers' error logs.</summary>
    public string Evidence { get; }

    /// <summary>The source the nodes capture and the generator writes: the first server, or the replica promoted by <see cref="FailOverToAsync"/>.</summary>
    public ThrowawayMariaDb Source { get; private set; } = null!;

    /// <summary>The source's replica (ScenarioOptions.Replica), or null.</summary>
    public ThrowawayMariaDb? Replica { get; private set; }

    /// <summary>Servers and reader monitors of sources failed over from (kept for the report, stopped at the end).</summary>
    private readonly List<(ThrowawayMariaDb Server, BinlogReaderMonitor Readers)> _formerSources = [];

    /// <summary>The binlog reader monitors of the sources failed over from.</summary>
    public IEnumerable<BinlogReaderMonitor> FormerReaders => _formerSources.Select(f => f.Readers);

    /// <summary>
    /// Makes <paramref name="replica"/> the source (the caller promoted it and holds the generator
    /// paused): the generator writes to it, the checker and the monitors read it, and the nodes'
    /// configs point at it from their next boot.
    /// </summary>
    public async Task FailOverToAsync(ThrowawayMariaDb replica)
    {
        _formerSources.Add((Source, Readers));
        Source = replica;
        Readers = new BinlogReaderMonitor(replica.RootConnectionString);
        await Workload.RetargetAsync(replica.RootConnectionString);
    }

    public ThrowawayMariaDb Journal { get; private set; } = null!;

    public FaultRedis Redis { get; private set; } = null!;

    public IReadOnlyList<NodeProcess> Nodes { get; private set; } = [];

    public Workload Workload { get; private set; } = null!;

    public BinlogReaderMonitor Readers { get; private set; } = null!;

    /// <summary>The wide-table generator (ScenarioOptions.WideRows), or null.</summary>
    public WideRows? Wide { get; private set; }

    /// <summary>The nodes' network namespaces (ScenarioOptions.NetworkNamespaces), or null when the nodes run on 127.0.0.1.</summary>
    public NetworkNamespaces? Network { get; private set; }

    /// <summary>Where the nodes reach the servers: 127.0.0.1, or the bridge's address when they run in namespaces.</summary>
    public string ServerHost => Network?.ServerAddress ?? "127.0.0.1";


    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>When the cluster was up and the capture reading (before the workload).</summary>
    public DateTime ReadyUtc { get; private set; }

    public string SourceCdcConnectionString => $"Server={ServerHost};Port={Source.Port};User ID=cdc;Password={_cdcPassword}";

    /// <summary>Starts services and nodes; <paramref name="beforeNodes"/> runs once the servers are up and the schema exists.</summary>
    public static async Task<FaultRun> StartAsync(ScenarioOptions options, ITestOutputHelper output, Func<FaultRun, Task>? beforeNodes = null)
    {
        var run = new FaultRun(options, output, FaultRunDirectory.ForServers(options.Scenario), FaultRunDirectory.ForEvidence(options.Scenario));
        try
        {
            if (options.NetworkNamespaces)
            {
                run.Network = await NetworkNamespaces.CreateAsync(3 + options.SpareNodes);
                run.Mark($"network namespaces up: servers on {run.ServerHost}, nodes on {string.Join(", ", Enumerable.Range(1, 3 + options.SpareNodes).Select(run.Network.NodeAddress))}");
            }

            await run.StartServicesAsync();
            if (beforeNodes is not null)
            {
                await beforeNodes(run);
            }

            await run.StartNodesAsync();
            run.Readers = new BinlogReaderMonitor(run.Source.RootConnectionString);
            run._sampler = Task.Run(run.SampleLoopAsync);
            run.Workload = new Workload(run.Source.RootConnectionString, options.Seed, options.KeySpace);
            run.Wide = options.WideRows ? new WideRows(run.Source.RootConnectionString, options.Seed) : null;
            run.ReadyUtc = DateTime.UtcNow;
            run.Mark($"ready: 3 nodes up, capture reading on {run.CaptureNodeOrNull()?.Name ?? "?"}");
            return run;
        }
        catch (Exception e)
        {
            var diagnostics = run.Diagnostics();
            await run.DisposeAsync();
            throw new InvalidOperationException($"{options.Scenario}: the cluster did not start: {e.Message}\n{diagnostics}", e);
        }
    }

    /// <summary>
    /// Starts one of the scenario's MariaDB servers in <paramref name="directory"/> (kept as evidence),
    /// small and strict: a 64 MB buffer pool, 16 MB redo log, utf8mb4, then <paramref name="options"/>.
    /// </summary>
    private static Task<ThrowawayMariaDb> StartMariaDbAsync(string name, string directory, params string[] options) =>
        ThrowawayMariaDb.StartAsync(new ThrowawayMariaDbOptions
        {
            Name = name,
            Directory = directory,
            InstallOptions = ["--innodb-log-file-size=16M"],
            ServerOptions =
            [
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--max-connections=200",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                .. options,
            ],
        });

    private async Task StartServicesAsync()
    {
        var bind = "--bind-address=" + (Network is null ? "127.0.0.1" : "127.0.0.1," + Network.ServerAddress);
        var sourceTask = StartMariaDbAsync(
            "source",
            Path.Combine(ServersDirectory, "source"),
            "--server-id=1",
            "--log-bin=" + Path.Combine(ServersDirectory, "source", "data", "mariadb-bin"),
            "--binlog-format=ROW",
            "--binlog-row-image=FULL",
            "--binlog-row-metadata=FULL",
            "--max-binlog-size=1M",
            "--sync-binlog=1",
            "--innodb-flush-log-at-trx-commit=1",
            "--gtid-strict-mode=ON",
            bind);
        var journalTask = StartMariaDbAsync("journal", Path.Combine(ServersDirectory, "journal"), "--server-id=2", bind);
        var redisTask = FaultRedis.StartAsync(Path.Combine(ServersDirectory, "redis"), Network is null ? [] : [Network.ServerAddress]);
        Source = await sourceTask;
        Journal = await journalTask;
        Redis = await redisTask;

        await Source.ExecuteAsync(Workload.Schema);
        if (Options.WideRows)
        {
            await Source.ExecuteAsync(WideRows.Schema);
        }

        // The nodes connect from 127.0.0.1, or from their namespaces' addresses.
        var clients = Network is null ? "127.0.0.1" : "10.201.%";
        await Source.ExecuteAsync($"""
            CREATE USER 'cdc'@'{clients}' IDENTIFIED BY '{_cdcPassword}';
            GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO 'cdc'@'{clients}';
            """);
        await Journal.ExecuteAsync($"""
            CREATE DATABASE journal;
            CREATE USER 'journal'@'{clients}' IDENTIFIED BY '{_journalPassword}';
            GRANT ALL PRIVILEGES ON journal.* TO 'journal'@'{clients}';
            """);
        if (Options.Replica)
        {
            await StartReplicaAsync(bind);
        }

        _redisClient = await Redis.ClientAsync();
        Mark($"services up: source :{Source.Port} (pid {Source.ProcessId}), journal :{Journal.Port}, redis :{Redis.Port} (pid {Redis.ProcessId})");
    }

    /// <summary>
    /// Starts the replica and lets it catch up with the source from its first transaction. The
    /// source's binlog moves on by four files first, so the replica's file numbers stay below the
    /// source's: versions by file position would make every change on the replica look older.
    /// </summary>
    private async Task StartReplicaAsync(string bind)
    {
        var password = "repl-" + Guid.NewGuid().ToString("N")[..12];
        await Source.ExecuteAsync($"""
            CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '{password}';
            GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
            FLUSH BINARY LOGS; FLUSH BINARY LOGS; FLUSH BINARY LOGS; FLUSH BINARY LOGS;
            """);
        var directory = Path.Combine(ServersDirectory, "replica");
        Replica = await StartMariaDbAsync(
            "replica",
            directory,
            "--server-id=3",
            "--log-bin=" + Path.Combine(directory, "data", "mariadb-bin"),
            "--log-slave-updates",
            "--binlog-format=ROW",
            "--binlog-row-image=FULL",
            "--binlog-row-metadata=FULL",
            "--max-binlog-size=1M",
            "--sync-binlog=1",
            "--innodb-flush-log-at-trx-commit=1",
            "--gtid-strict-mode=ON",
            bind);
        await Replica.ExecuteAsync($"CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {Source.Port}, MASTER_USER = 'repl', MASTER_PASSWORD = '{password}', MASTER_USE_GTID = slave_pos; START SLAVE");
        await WaitForReplicaAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits until the replica has applied everything the source has logged (its gtid_slave_pos is the source's gtid_binlog_pos); returns that position.</summary>
    public async Task<string> WaitForReplicaAsync(TimeSpan timeout)
    {
        var replica = Replica ?? throw new InvalidOperationException("This scenario has no replica.");
        var position = await Source.ScalarAsync<string>("SELECT @@gtid_binlog_pos");
        var deadline = DateTime.UtcNow + timeout;
        string? applied = null;
        while (DateTime.UtcNow < deadline)
        {
            applied = await replica.ScalarAsync<string>("SELECT @@gtid_slave_pos");
            if (applied == position)
            {
                return position;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The replica applied {applied}, not the source's {position}, within {timeout.TotalSeconds:0} s:\n{Tools.Tail(replica.ErrorLog, 20)}");
    }

    private async Task StartNodesAsync()
    {
        var count = 3 + Options.SpareNodes;
        var ports = Tools.FreePorts(2 * count);
        var nodes = new List<NodeProcess>();
        for (var i = 0; i < count; i++)
        {
            var name = $"node{i + 1}";
            var config = Path.Combine(ServersDirectory, name + ".conf");
            var n = i + 1;
            var node = Network is { } network
                ? new NodeProcess(name, ports[i], ports[count + i], config, Evidence, network.NodeAddress(n), (file, arguments) => network.Inside(n, file, arguments))
                : new NodeProcess(name, ports[i], ports[count + i], config, Evidence);
            node.Crash = Options.CrashAtBoot.GetValueOrDefault(name);
            nodes.Add(node);
        }

        Nodes = nodes;
        await BootAsync();
    }

    /// <summary>The tables the source captures: src.t, src.w with ScenarioOptions.WideRows, and ScenarioOptions.ExtraTables.</summary>
    public IReadOnlyList<string> Tables => ["src.t", .. Options.WideRows ? ["src.w"] : Array.Empty<string>(), .. Options.ExtraTables];

    /// <summary>replicator.sources.src.resynced-through ("file:position", or empty): set by a scenario that resynced stopped tables, for the next boot.</summary>
    public string ResyncedThrough { get; set; } = "";

    /// <summary>Where a capture with no persisted offset starts (replicator.sources.src.start); "end" unless a scenario rewinds.</summary>
    public string SourceStart { get; set; } = "end";

    /// <summary>
    /// Writes the nodes' configs and starts the first three (spare nodes wait for the scenario): the
    /// first seed first, so it is the oldest member and runs the singletons and the coordinator.
    /// </summary>
    private async Task BootAsync()
    {
        foreach (var node in Nodes)
        {
            await File.WriteAllTextAsync(node.ConfigPath, NodeConfig(node));
        }

        Nodes[0].Start();
        await WaitForAdminAsync(Nodes[0], TimeSpan.FromSeconds(90));
        if (Options.BootInOrder)
        {
            Nodes[1].Start();
            await WaitForAdminAsync(Nodes[1], TimeSpan.FromSeconds(90));
            Nodes[2].Start();
            await WaitForAdminAsync(Nodes[2], TimeSpan.FromSeconds(90));
        }
        else
        {
            Nodes[1].Start();
            Nodes[2].Start();
            await Task.WhenAll(WaitForAdminAsync(Nodes[1], TimeSpan.FromSeconds(90)), WaitForAdminAsync(Nodes[2], TimeSpan.FromSeconds(90)));
        }

        await WaitForCaptureAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts a node that is not running again (a new incarnation), configured with <paramref name="crash"/> (null: no crash point), and waits until it is up.</summary>
    public async Task RestartAsync(NodeProcess node, NodeCrash? crash)
    {
        node.Crash = crash;
        await File.WriteAllTextAsync(node.ConfigPath, NodeConfig(node));
        node.Start();
        await WaitForAdminAsync(node, TimeSpan.FromSeconds(90));
    }

    /// <summary>A full cluster restart: kill -9 every node, run <paramref name="whileDown"/>, start them all again.</summary>
    public async Task RestartClusterAsync(Func<Task> whileDown)
    {
        foreach (var node in Nodes)
        {
            node.Kill();
        }

        Mark("killed every node");
        await whileDown();
        await BootAsync();
        Mark($"cluster up again, capture on {CaptureNodeOrNull()?.Name ?? "?"}");
    }

    private string NodeConfig(NodeProcess node)
    {
        string Q(string s) => JsonSerializer.Serialize(s);
        var seeds = string.Join(", ", Nodes.Take(2).Select(n => Q(n.Address)));
        var o = Options;
        var include = Path.Combine(RepoPaths.Root, "hocon", "replicator.conf");
        var journal = $"Server={ServerHost};Port={Journal.Port};User ID=journal;Password={_journalPassword};Database=journal";
        return string.Create(CultureInfo.InvariantCulture, $$"""
            include {{Q(include)}}

            akka {
              loglevel = INFO
              log-dead-letters = on
              log-dead-letters-during-shutdown = off
              remote.dot-netty.tcp {
                hostname = {{node.Host}}
                port = {{node.AkkaPort}}
              }
              cluster {
                seed-nodes = [{{seeds}}]
                roles = {{o.Roles.GetValueOrDefault(node.Name, "[capture, worker]")}}
                failure-detector.acceptable-heartbeat-pause = 3s
                down-removal-margin = 7s
                split-brain-resolver.stable-after = 7s
              }
            }

            replicator {
              # The namespaces' private network (F5) is off loopback, and its servers have no TLS.
              insecure = {{(Network is null ? "off" : "on")}}
              data-dir = {{Q(Path.Combine(ServersDirectory, node.Name + "-data"))}}
              capture {
                max-in-flight = {{o.MaxInFlight}}
                offset-commit-interval = 500ms
                redelivery-timeout = {{(int)o.RedeliveryTimeout.TotalMilliseconds}}ms
                reconnect-min-backoff = 500ms
                reconnect-max-backoff = 4s
              }
              sources {
                {{SourceName}} {
                  connection-string = {{Q(SourceCdcConnectionString)}}
                  server-id = {{ReaderServerId}}
                  tables = [{{string.Join(", ", Tables.Select(Q))}}]
                  resynced-through = {{Q(ResyncedThrough)}}
                  resume-by = {{o.ResumeBy}}
                  start = {{Q(SourceStart)}}
                  heartbeat = {{(int)o.SourceLiveness.Heartbeat.TotalMilliseconds}}ms
                  read-timeout = {{(int)o.SourceLiveness.ReadTimeout.TotalMilliseconds}}ms
                  connect-timeout = 3s
                }
              }
              definitions {
                {{Definition}} {
                  topics = ["*"]
                  buckets = {{o.Buckets}}
                  mode = {{o.Mode}}
                  batch-size = 200
                  retry {
                    initial = {{(int)o.Retry.Initial.TotalMilliseconds}}ms
                    max = {{(int)o.Retry.Max.TotalMilliseconds}}ms
                    max-attempts = {{o.Retry.MaxAttempts}}
                  }
                  job {
                    type = redis-cache
                    redis = {{Q($"{ServerHost}:{Redis.Port}")}}
                    key-prefix = {{Q(o.KeyPrefix)}}
                  }
                }
              }
              persistence {
                provider = mysql
                connection-string = {{Q(journal)}}
              }
              testing {
                apply-ledger = {{Q(node.LedgerPath)}}
                crash-at = {{node.Crash?.Point ?? "none"}}
                crash-at-occurrence = {{node.Crash?.Occurrence ?? 1}}
                chaos {
                  duplicate-probability = {{o.DuplicateProbability}}
                  shuffle-window = {{o.ShuffleWindow}}
                  seed = {{o.Seed}}
                }
              }
            }
            """);
    }

    /// <summary>Waits until the node's admin endpoint answers (it starts once the node is Up in the cluster).</summary>
    public async Task WaitForAdminAsync(NodeProcess node, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!node.Running)
            {
                throw new InvalidOperationException($"{node.Name} exited while starting:\n{Tools.Tail(node.LogPath, 40)}");
            }

            if (await node.StatusAsync() is not null)
            {
                Mark($"{node.Name} (incarnation {node.Incarnation}, pid {node.ProcessId}) is up");
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{node.Name} did not answer on its admin endpoint within {timeout.TotalSeconds:0} s:\n{Tools.Tail(node.LogPath, 40)}");
    }

    /// <summary>Waits until the capture reads the binlog (state reading, an offset known) and returns its node.</summary>
    public async Task<NodeProcess> WaitForCaptureAsync(TimeSpan timeout, NodeProcess? notOn = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        NodeStatus? last = null;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var node in Nodes.Where(n => n.Running))
            {
                last = await node.StatusAsync() ?? last;
                if (last is { CaptureState: "reading", CurrentOffset: not null } && CaptureNodeOrNull() is { } capture && capture != notOn)
                {
                    return capture;
                }
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The capture did not start reading within {timeout.TotalSeconds:0} s; last status: {last?.Json}");
    }

    /// <summary>The node that runs the capture now; throws when none does.</summary>
    public NodeProcess CaptureNode() => CaptureNodeOrNull() ?? throw new InvalidOperationException("no node runs the capture");

    /// <summary>The running node whose current incarnation runs the capture singleton (from its log).</summary>
    public NodeProcess? CaptureNodeOrNull()
    {
        var candidates = Nodes.Where(n => n.LogShowsCaptureReading(SourceName)).ToList();
        return candidates.Count == 1 ? candidates[0] : candidates.OrderBy(n => n.StartedUtc).FirstOrDefault();
    }

    /// <summary>Starts the generator for the scenario's change count; the task ends when they are all acknowledged.</summary>
    public Task RunWorkloadAsync() =>
        Task.Run(async () =>
        {
            var started = _clock.Elapsed;
            await Workload.RunAsync(Options.Changes, Options.ChangesPerSecond, _stop.Token);
            Mark($"generator done: {Workload.AckedChanges} changes in {Workload.AckedTransactions} transactions ({Workload.FailedTransactions} failed, resolved) in {(_clock.Elapsed - started).TotalSeconds:0.0} s");
        });

    /// <summary>Starts the generator without a count: it writes until <see cref="Workload.Stop"/>.</summary>
    public Task RunWorkloadUntilStoppedAsync() =>
        Task.Run(async () =>
        {
            var started = _clock.Elapsed;
            await Workload.RunAsync(long.MaxValue, Options.ChangesPerSecond, _stop.Token);
            Mark($"generator stopped: {Workload.AckedChanges} changes in {Workload.AckedTransactions} transactions ({Workload.FailedTransactions} failed, resolved) in {(_clock.Elapsed - started).TotalSeconds:0.0} s");
        });

    /// <summary>Waits until the generator has acknowledged <paramref name="changes"/> changes (or the workload task ended).</summary>
    public async Task WaitForChangesAsync(long changes, Task workload)
    {
        while (Workload.AckedChanges < changes && !workload.IsCompleted)
        {
            await Task.Delay(100);
        }

        if (workload.IsFaulted)
        {
            await workload;
        }
    }

    /// <summary>Waits until a lag sample taken after this call shows the capture under 1.5 s behind the source.</summary>
    public async Task WaitForCatchUpAsync(TimeSpan timeout)
    {
        var since = DateTime.UtcNow;
        var deadline = since + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var latest = LagSeries().LastOrDefault();
            if (latest.At > since && latest.LagSeconds <= 1.5)
            {
                Mark($"capture caught up (lag {latest.LagSeconds:0.0} s)");
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The capture did not catch up with the source within {timeout.TotalSeconds:0} s.");
    }

    /// <summary>
    /// Says that the next fault is being set up now and that what the scenario does for it (poison
    /// rows that are retried, a slow sink) may itself hold the capture back: the recovery from the
    /// fault before ends here, not when the next fault strikes.
    /// </summary>
    public void FaultArming(string what)
    {
        lock (_faults)
        {
            _arming = DateTime.UtcNow;
        }

        Mark("arming the next fault: " + what);
    }

    public void FaultInjected(string what)
    {
        lock (_faults)
        {
            var now = DateTime.UtcNow;
            _faults.Add((_arming ?? now, now, null));
            _arming = null;
        }

        // The changes just before a fault are the ones at risk: keep them from being superseded.
        var frozen = Workload?.FreezeRecent(TimeSpan.FromSeconds(2)) ?? 0;
        Mark($"FAULT: {what} ({frozen} recently written pks frozen)");
    }

    public void FaultHealed(string what)
    {
        lock (_faults)
        {
            if (_faults.Count > 0)
            {
                _faults[^1] = (_faults[^1].Armed, _faults[^1].Injected, DateTime.UtcNow);
            }
        }

        Mark("HEAL: " + what);
    }

    public void Mark(string what)
    {
        var line = $"[{_clock.Elapsed.TotalSeconds,7:0.0}s] {Options.Scenario} {what}";
        lock (_timeline)
        {
            _timeline.Add(line);
        }

        _output.WriteLine(line);
    }

    /// <summary>
    /// True when an offset the status shows is past the probe: at or past the binlog's end as it was
    /// after the probe, or at or past the probe's GTID (an end that holds events after the probe's
    /// transaction which no offset covers, such as a Binlog_checkpoint written after a rotation).
    /// </summary>
    private static bool PastProbe(string? offset, (BinlogPoint End, long Sequence) probe) =>
        (BinlogPoint.Parse(offset) is { } point && point >= probe.End) || BinlogPoint.GtidSequence(offset) >= probe.Sequence;

    /// <summary>
    /// Quiescence (FAULTS.md §4.1 step 1): the generator has stopped; write a probe row, then wait
    /// (bounded) until the capture's current and persisted offsets are past it (the binlog's end,
    /// or the probe's GTID) and nothing is outstanding. Returns how long it took.
    /// </summary>
    public async Task<TimeSpan> QuiesceAsync(TimeSpan? bound = null)
    {
        var started = DateTime.UtcNow;
        var probe = await Source.ProbeAsync();
        var end = probe.End;
        var deadline = started + (bound ?? TimeSpan.FromSeconds(120));
        NodeStatus? last = null;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var node in Nodes.Where(n => n.Running))
            {
                var status = await node.StatusAsync();
                if (status is null)
                {
                    continue;
                }

                last = status;
                if (status.CaptureState == "reading"
                    && PastProbe(status.CurrentOffset, probe)
                    && PastProbe(status.PersistedOffset, probe)
                    && status.Outstanding == 0)
                {
                    var took = DateTime.UtcNow - started;
                    Mark($"quiescent after {took.TotalSeconds:0.0} s at {end}: {status.Json}");
                    return took;
                }

                break;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{Options.Scenario}: not quiescent within {(bound ?? TimeSpan.FromSeconds(120)).TotalSeconds:0} s: binlog end {end} (probe gtid 0-1-{probe.Sequence}), last status {last?.Json}\n{Diagnostics()}");
    }

    /// <summary>
    /// Writes a probe row and waits (bounded) until the capture's persisted offset is at or past it
    /// (so past everything committed before); returns how long that took. The probe keeps a binlog
    /// rotation with nothing after it (an end at the new file's header) from being waited for in vain.
    /// </summary>
    public async Task<TimeSpan> WaitForPersistedPastEndAsync(TimeSpan bound)
    {
        var started = DateTime.UtcNow;
        var probe = await Source.ProbeAsync();
        var end = probe.End;
        NodeStatus? last = null;
        while (DateTime.UtcNow - started < bound)
        {
            last = await CaptureStatusAsync() ?? last;
            if (PastProbe(last?.PersistedOffset, probe))
            {
                return DateTime.UtcNow - started;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{Options.Scenario}: the persisted offset did not reach {end} within {bound.TotalSeconds:0} s; last status {last?.Json}");
    }

    /// <summary>
    /// The checker: per-pk comparison, the ledger invariant, and the `replicator check` comparison
    /// (unless <paramref name="withReplicatorCheck"/> is false: it reads the sink one key at a time,
    /// which takes minutes for a million rows; the result then says it did not run).
    /// </summary>
    public async Task<CheckOutcome> CheckAsync(bool withReplicatorCheck = true)
    {
        var comparison = await SinkCheck.CompareAsync(Source.RootConnectionString, _redisClient!, Options.KeyPrefix);
        var (lost, lostExamples) = SinkCheck.LedgerLost(Workload.Ledger, comparison.SinkVersions);
        if (!withReplicatorCheck)
        {
            var alone = new CheckOutcome(comparison, lost, lostExamples, new SinkCheckResult("src", "t", comparison.SourceRows, comparison.SinkRows, 0, 0, 0, [new("src", "t", "-", "not run")]));
            Mark($"check (the harness's comparison only, no replicator check): events_lost {lost}, {comparison}");
            return alone;
        }

        SinkCheckResult replicatorCheck;
        try
        {

            replicatorCheck = await new RedisCacheSinkChecker(Source.RootConnectionString, _redisClient!, Options.KeyPrefix).CheckAsync("src", "t");
        }
        catch (RedisServerException e)
        {
            // A key that is not a hash (F8's poison before the repair).
            replicatorCheck = new SinkCheckResult("src", "t", comparison.SourceRows, comparison.SinkRows, 0, 0, 1, [new("src", "t", "-", "the check could not read the sink: " + e.Message)]);
        }

        var outcome = new CheckOutcome(comparison, lost, lostExamples, replicatorCheck);
        Mark("check: " + outcome.Summary);
        return outcome;
    }

    /// <summary>Builds the scenario's report from the check, the apply ledgers, the logs, the monitors and the samples.</summary>
    public async Task<FaultReport> ReportAsync(CheckOutcome check, TimeSpan quiesce, DateTime quiescentUtc, DateTime readyUtc)
    {
        var ledger = ApplyLedgerStats.Read(Nodes.Select(n => n.LedgerPath));
        var logs = LogFacts.Read(Nodes, readyUtc);
        var rss = new Dictionary<string, long>();
        foreach (var node in Nodes)
        {
            foreach (var (process, mb) in node.PeakRssMb)
            {
                rss[process] = mb;
            }
        }

        var dlq = Nodes.Any(n => n.Running) ? (await DeadLettersAsync()).Count : -1;
        var recovery = TimesToRecoverSeconds(quiescentUtc);
        var report = new FaultReport
        {
            Scenario = Options.Scenario,
            Seed = Options.Seed,
            AckedChanges = Workload.AckedChanges,
            EventsLost = check.EventsLost,
            PksMismatched = check.Comparison.Mismatched,
            MissingInSink = check.Comparison.MissingInSink,
            Stale = check.Comparison.Stale,
            Resurrected = check.Comparison.Resurrected,
            Corrupt = check.Comparison.Corrupt,
            DuplicatesApplied = ledger.DuplicatesApplied,
            StaleWritesRejected = ledger.Refused,
            DeadLetters = logs.DeadLetters,
            DlqEntries = dlq,
            TimeToRecoverS = recovery.Count == 0 ? null : recovery.Any(r => r is null) ? null : recovery.Max(),
            MaxCaptureLagS = MaxCaptureLagSeconds(),
            MaxRssMb = rss,
            ReconnectAttempts = logs.ReconnectAttempts,
            MembershipChanges = logs.MembershipChanges,
            MaxBinlogReaders = Readers.MaxConcurrent,
            SecretLeaks = SecretLeaks(),
            QuiesceS = Math.Round(quiesce.TotalSeconds, 1),
            WallS = Math.Round(Elapsed.TotalSeconds, 1),
        };
        report.Extra["applies"] = ledger.Applied;
        if (recovery.Count > 1)
        {
            report.Extra["time_to_recover_each_s"] = recovery;
        }

        report.Extra["failed_transactions"] = Workload.FailedTransactions;
        report.Extra["largest_transaction"] = Workload.LargestTransaction;
        report.Extra["frozen_pks"] = Workload.FrozenPks;
        report.Extra["reader_polls"] = Readers.Polls;
        if (logs.Removals.Count > 0)
        {
            report.Extra["removals"] = logs.Removals;
        }

        Mark("capture lag over 1.5 s: " + LagSpans());
        Mark($"ledger: {ledger}; logs: {logs.DeadLetters} dead letters, {logs.ReconnectAttempts} reconnects, membership changes [{string.Join("; ", logs.Removals)}]");
        if (logs.Errors.Count > 0)
        {
            Mark("node errors:\n  " + string.Join("\n  ", logs.Errors.Take(10)));
        }

        return report;
    }

    /// <summary>Occurrences of the canary passwords in the nodes' logs (all incarnations), which must be 0.</summary>
    public int SecretLeaks()
    {
        var count = 0;
        foreach (var path in Nodes.SelectMany(n => n.AllLogs).Where(File.Exists))
        {
            var text = NodeProcess.ReadShared(path);
            foreach (var secret in new[] { _cdcPassword, _journalPassword })
            {
                for (var i = text.IndexOf(secret, StringComparison.Ordinal); i >= 0; i = text.IndexOf(secret, i + 1, StringComparison.Ordinal))
                {
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>Dead letters listed by GET /dead-letters/&lt;definition&gt; on a running node, page after page: pk and attempts.</summary>
    public async Task<List<(string Pk, int Attempts, string Error)>> DeadLettersAsync()
    {
        var node = Nodes.First(n => n.Running);
        var letters = new List<(string Pk, int Attempts, string Error)>();
        int? next = 0;
        while (next is { } offset)
        {
            var json = await node.GetAsync($"/dead-letters/{Definition}?offset={offset}&limit=1000");
            using var document = JsonDocument.Parse(json);
            letters.AddRange(document.RootElement.GetProperty("entries").EnumerateArray()
                .Select(e => (e.GetProperty("pk").GetString()!, e.GetProperty("attempts").GetInt32(), e.GetProperty("error").GetString() ?? "")));
            var nextValue = document.RootElement.GetProperty("next");
            next = nextValue.ValueKind == JsonValueKind.Null ? null : nextValue.GetInt32();
        }

        return letters;
    }

    /// <summary>The capture's status from any running node.</summary>
    public async Task<NodeStatus?> CaptureStatusAsync()
    {
        foreach (var node in Nodes.Where(n => n.Running))
        {
            if (await node.StatusAsync() is { } status)
            {
                return status;
            }
        }

        return null;
    }

    private async Task SampleLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                foreach (var node in Nodes)
                {
                    node.SampleRss();
                }

                BinlogPoint? master = null;
                try
                {
                    var (file, position) = await Source.MasterStatusAsync();
                    master = new BinlogPoint(file, position, 0);
                }
                catch (Exception e) when (e is MySqlException or InvalidOperationException or IOException)
                {
                    // The source is down.
                }

                var status = await CaptureStatusAsync();
                lock (_samples)
                {
                    _samples.Add(new Sample(DateTime.UtcNow, master, BinlogPoint.Parse(status?.CurrentOffset), status?.CaptureState, status?.Outstanding));
                }

                await Task.Delay(1000, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Capture lag per sample: how long ago the source's binlog end first passed the capture's safe
    /// offset (0 while no sample shows the end past it). Sampled once a second, so exact to about 1 s.
    /// </summary>
    public IReadOnlyList<(DateTime At, double LagSeconds)> LagSeries()
    {
        List<Sample> samples;
        lock (_samples)
        {
            samples = [.. _samples];
        }

        var series = new List<(DateTime, double)>();
        for (var i = 0; i < samples.Count; i++)
        {
            if (samples[i].Current is not { } current)
            {
                continue;
            }

            var passed = samples.Take(i + 1).FirstOrDefault(s => s.Master is { } m && m > current);
            series.Add((samples[i].At, passed is null ? 0 : (samples[i].At - passed.At).TotalSeconds));
        }

        return series;
    }

    /// <summary>
    /// For each fault: seconds from its injection until the capture lag is back under 1.5 s for good
    /// (after its heal, before the next fault is armed or strikes); when it never is, until quiescence (or null).
    /// </summary>
    public IReadOnlyList<double?> TimesToRecoverSeconds(DateTime? quiescentUtc)
    {
        List<(DateTime Armed, DateTime Injected, DateTime? Healed)> faults;
        lock (_faults)
        {
            faults = [.. _faults];
        }

        var lag = LagSeries();
        var times = new List<double?>();
        for (var i = 0; i < faults.Count; i++)
        {
            var (_, injected, healed) = faults[i];
            var from = healed is { } h && h > injected ? h : injected;
            var until = i + 1 < faults.Count ? faults[i + 1].Armed : DateTime.MaxValue;
            var window = lag.Where(s => s.At > from && s.At < until).ToList();
            var lastLagging = window.Where(s => s.LagSeconds > 1.5).Select(s => s.At).DefaultIfEmpty(from).Max();
            var recovered = window.FirstOrDefault(s => s.At > lastLagging && s.LagSeconds <= 1.5);
            times.Add(recovered.At != default
                ? Math.Round((recovered.At - injected).TotalSeconds, 1)
                : i + 1 == faults.Count && quiescentUtc is { } q ? Math.Round((q - injected).TotalSeconds, 1) : null);
        }

        return times;
    }

    /// <summary>
    /// The stretches of the run when the capture lag was over 1.5 s, on the timeline's clock, with
    /// the highest lag of each: what a recovery time is made of.
    /// </summary>
    public string LagSpans()
    {
        var spans = new List<string>();
        (DateTime From, DateTime To, double Max)? open = null;
        foreach (var (at, lag) in LagSeries())
        {
            if (lag > 1.5)
            {
                open = open is { } o ? (o.From, at, Math.Max(o.Max, lag)) : (at, at, lag);
            }
            else if (open is { } o)
            {
                spans.Add(Span(o));
                open = null;
            }
        }

        if (open is { } last)
        {
            spans.Add(Span(last) + " (still lagging at the end)");
        }

        return spans.Count == 0 ? "never" : string.Join(", ", spans);

        string Span((DateTime From, DateTime To, double Max) s) => string.Create(
            CultureInfo.InvariantCulture,
            $"{(s.From - _startedUtc).TotalSeconds:0.0}–{(s.To - _startedUtc).TotalSeconds:0.0} s (max {s.Max:0.0} s)");
    }

    public double MaxCaptureLagSeconds() => Math.Round(LagSeries().Select(s => s.LagSeconds).DefaultIfEmpty(0).Max(), 1);

    /// <summary>Everything needed to diagnose a failure: timeline, node statuses, log tails, servers' error logs.</summary>
    public string Diagnostics()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"--- {Options.Scenario} diagnostics (evidence in {Evidence}) ---");
        lock (_timeline)
        {
            sb.AppendLine(string.Join('\n', _timeline));
        }

        foreach (var node in Nodes)
        {
            sb.AppendLine($"--- {node.Name} (incarnation {node.Incarnation}, {(node.Running ? "running pid " + node.ProcessId : "not running")}) {node.LogPath} ---");
            sb.AppendLine(Tools.Tail(node.LogPath, 40));
        }

        if (Source is not null)
        {
            sb.AppendLine($"--- source error log ---\n{Tools.Tail(Source.ErrorLog, 15)}");
        }

        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_sampler is not null)
        {
            await _sampler;
        }

        if (Readers is not null)
        {
            await Readers.DisposeAsync();
        }

        foreach (var node in Nodes)
        {
            node.Kill();
        }

        if (_redisClient is not null)
        {
            await _redisClient.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        if (Replica is not null && Replica != Source)
        {
            CopyIfExists(Replica.ErrorLog, Path.Combine(Evidence, "replica-error.log"));
            await Replica.DisposeAsync();
        }

        foreach (var (server, readers) in _formerSources)
        {
            await readers.DisposeAsync();
            CopyIfExists(server.ErrorLog, Path.Combine(Evidence, $"{server.Name}-error.log"));
            await server.DisposeAsync();
        }

        if (Source is not null)
        {
            CopyIfExists(Source.ErrorLog, Path.Combine(Evidence, "source-error.log"));
            await Source.DisposeAsync();
        }

        if (Journal is not null)
        {
            await Journal.DisposeAsync();
        }

        if (Network is not null)
        {
            await Network.DisposeAsync();
        }

        lock (_timeline)
        {
            File.WriteAllLines(Path.Combine(Evidence, "timeline.log"), _timeline);
        }

        try
        {
            Directory.Delete(ServersDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        _stop.Dispose();
    }

    private static void CopyIfExists(string from, string to)
    {
        if (File.Exists(from))
        {
            File.Copy(from, to, overwrite: true);
        }
    }

    private sealed record Sample(DateTime At, BinlogPoint? Master, BinlogPoint? Current, string? State, long? Outstanding);
}
