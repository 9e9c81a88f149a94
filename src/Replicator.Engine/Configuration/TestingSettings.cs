namespace Replicator.Engine.Configuration;

/// <summary>Fault injection and instrumentation for the fault suite (replicator.testing). Off by default.</summary>
/// <param name="DuplicateProbability">Probability that the capture delivers a change twice.</param>
/// <param name="ShuffleWindow">The capture shuffles each bucket's deliveries within windows of this size (0: source order).</param>
/// <param name="ApplyLedger">File each node appends one line per sink write to, or empty.</param>
/// <param name="CrashAt">Where the node exits at once (<see cref="CrashPoints"/>); <see cref="CrashPoint.None"/> by default.</param>
/// <param name="CrashAtOccurrence">At which occurrence of <paramref name="CrashAt"/> it exits (1: the first).</param>
public sealed record TestingSettings(double DuplicateProbability, int ShuffleWindow, int Seed, string ApplyLedger, CrashPoint CrashAt, long CrashAtOccurrence)
{
    public bool ChaosEnabled => DuplicateProbability > 0 || ShuffleWindow > 1;

    internal static TestingSettings Read(ConfigReader reader)
    {
        reader.RequireOnly("chaos", "apply-ledger", "crash-at", "crash-at-occurrence");
        var chaos = reader.Child("chaos");
        chaos.RequireOnly("duplicate-probability", "shuffle-window", "seed");
        return new TestingSettings(
            chaos.Double("duplicate-probability", 0, 1),
            chaos.Int("shuffle-window", 0, 100_000),
            chaos.Int("seed", int.MinValue, int.MaxValue),
            reader.String("apply-ledger"),
            reader.Enum<CrashPoint>("crash-at"),
            reader.Int("crash-at-occurrence", 1, int.MaxValue));
    }
}
