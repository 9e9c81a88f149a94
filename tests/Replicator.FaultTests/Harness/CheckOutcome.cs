using Replicator.Engine.Jobs;

namespace Replicator.FaultTests.Harness;

/// <summary>The checker's verdict.</summary>
public sealed record CheckOutcome(SinkComparison Comparison, long EventsLost, List<string> LostExamples, SinkCheckResult ReplicatorCheck)
{
    public bool Passed => EventsLost == 0 && Comparison.Mismatched == 0 && ReplicatorCheck.Matches;

    public string Summary =>
        $"events_lost {EventsLost}, {Comparison}; replicator check: {ReplicatorCheck}"
        + (LostExamples.Count > 0 ? "\n  lost: " + string.Join("\n  lost: ", LostExamples) : "")
        + (ReplicatorCheck.Examples.Count > 0 ? "\n  check: " + string.Join("\n  check: ", ReplicatorCheck.Examples) : "");
}
