namespace Replicator.FaultTests.Harness;

/// <summary>Suite-wide sizes, overridable from the environment for a longer (nightly) run.</summary>
public static class FaultSuiteSettings
{
    /// <summary>Row changes per scenario (REPLICATOR_FAULT_CHANGES; default 100,000).</summary>
    public static long Changes { get; } = Read("REPLICATOR_FAULT_CHANGES", 100_000);

    /// <summary>Seed of the workload and the chaos stage (REPLICATOR_FAULT_SEED; default 42).</summary>
    public static long Seed { get; } = Read("REPLICATOR_FAULT_SEED", 42);

    /// <summary>Generator rate in changes/s (REPLICATOR_FAULT_RATE; default 1,500).</summary>
    public static double ChangesPerSecond { get; } = Read("REPLICATOR_FAULT_RATE", 1_500);

    private static long Read(string name, long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
