namespace Replicator.FaultTests.Harness;

/// <summary>The shape of one scenario's run: workload size and rate, and the node settings that differ.</summary>
public sealed record ScenarioOptions(string Scenario)
{
    public int Seed { get; init; } = (int)FaultSuiteSettings.Seed;

    /// <summary>Row changes the generator writes (acknowledged).</summary>
    public long Changes { get; init; } = FaultSuiteSettings.Changes;

    /// <summary>The generator's rate, in row changes per second.</summary>
    public double ChangesPerSecond { get; init; } = FaultSuiteSettings.ChangesPerSecond;

    /// <summary>Distinct pks of the base key range (pk changes move rows above 1,000,000).</summary>
    public int KeySpace { get; init; } = 10_000;

    public string KeyPrefix => Scenario.ToLowerInvariant() + ":";

    public int Buckets { get; init; } = 32;

    /// <summary>The definition's mode: row (the default), or pk (meepo's: the job reads each pk's current row from the source).</summary>
    public string Mode { get; init; } = "row";

    /// <summary>Nodes configured beside the three that boot, for a scenario to start later (node4, ...).</summary>
    public int SpareNodes { get; init; }

    public int MaxInFlight { get; init; } = 20_000;

    /// <summary>Capture src.w too, the wide table of <see cref="Harness.WideRows"/> (its generator is the scenario's to run).</summary>
    public bool WideRows { get; init; }

    /// <summary>More tables the source captures beside src.t (and src.w), which the scenario creates and writes.</summary>
    public IReadOnlyList<string> ExtraTables { get; init; } = [];

    /// <summary>Start a replica of the source (FaultRun.Replica: GTIDs, strict mode, log-slave-updates, its binlog files numbered below the source's).</summary>
    public bool Replica { get; init; }

    /// <summary>replicator.sources.src.resume-by: position (the default) or gtid.</summary>
    public string ResumeBy { get; init; } = "position";

    /// <summary>Cluster roles by node name, where they differ from [capture, worker].</summary>
    public IReadOnlyDictionary<string, string> Roles { get; init; } = new Dictionary<string, string>();

    /// <summary>Run each node in a network namespace of its own on its own address (F5's partitions); needs root.</summary>
    public bool NetworkNamespaces { get; init; }

    /// <summary>Boot node2 only once node1 is up and node3 once node2 is: the nodes' age order, and so where the singletons go next, is node1, node2, node3.</summary>
    public bool BootInOrder { get; init; }

    /// <summary>Crash points the nodes boot with, by node name (replicator.testing.crash-at).</summary>
    public IReadOnlyDictionary<string, NodeCrash> CrashAtBoot { get; init; } = new Dictionary<string, NodeCrash>();

    public TimeSpan RedeliveryTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The heartbeat period the capture asks of the source, and how long it lets the connection stay silent.</summary>
    public (TimeSpan Heartbeat, TimeSpan ReadTimeout) SourceLiveness { get; init; } = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));

    public double DuplicateProbability { get; init; }

    public int ShuffleWindow { get; init; }

    /// <summary>Retry policy of the definition: initial backoff, cap, attempts before dead-lettering.</summary>
    public (TimeSpan Initial, TimeSpan Max, int MaxAttempts) Retry { get; init; } = (TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(4), 200);
}
