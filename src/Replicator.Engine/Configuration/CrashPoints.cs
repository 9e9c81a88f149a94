using Akka.Actor;

namespace Replicator.Engine.Configuration;

/// <summary>
/// Test instrumentation (replicator.testing.crash-at): the node exits at once, with no graceful
/// shutdown and no flush (<see cref="Environment.FailFast(string)"/>), the k-th time it reaches the
/// configured <see cref="CrashPoint"/> (k = crash-at-occurrence). A no-op unless configured.
/// </summary>
public sealed class CrashPoints : IExtension
{
    private readonly CrashPoint _point;
    private readonly long _occurrence;
    private long _reached;

    public CrashPoints(ExtendedActorSystem system)
    {
        var testing = ReplicatorSettings.Create(system).Testing;
        _point = testing.CrashAt;
        _occurrence = testing.CrashAtOccurrence;
    }

    public static CrashPoints Get(ActorSystem system) => system.WithExtension<CrashPoints, CrashPointsProvider>();

    /// <summary>Called at <paramref name="point"/>; exits the process if it is the configured point's k-th occurrence.</summary>
    public void Reached(CrashPoint point)
    {
        if (point != _point || _point == CrashPoint.None || Interlocked.Increment(ref _reached) != _occurrence)
        {
            return;
        }

        Environment.FailFast($"replicator.testing.crash-at: crashing at {Name(point)} (occurrence {_occurrence}), as configured.");
    }

    /// <summary>The point as the setting spells it (after-dead-letter).</summary>
    public static string Name(CrashPoint point) =>
        string.Concat(point.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

public sealed class CrashPointsProvider : ExtensionIdProvider<CrashPoints>
{
    public override CrashPoints CreateExtension(ExtendedActorSystem system) => new(system);
}
