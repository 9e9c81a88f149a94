namespace Replicator.FaultTests.Harness;

/// <summary>How the sink compares with the source.</summary>
public sealed class SinkComparison
{
    public int SourceRows { get; init; }

    public int SinkRows { get; init; }

    public int MissingInSink { get; set; }

    public int Stale { get; set; }

    public int Resurrected { get; set; }

    public int Corrupt { get; set; }

    public int Mismatched => MissingInSink + Stale + Resurrected + Corrupt;

    /// <summary>Every pk that does not match, whatever the reason.</summary>
    public HashSet<long> MismatchedPks { get; } = [];

    public List<string> Examples { get; } = [];

    /// <summary>The ver each sink row holds, by pk.</summary>
    public IReadOnlyDictionary<long, long> SinkVersions { get; set; } = new Dictionary<long, long>();

    public void Note(string example)
    {
        if (Examples.Count < 12)
        {
            Examples.Add(example);
        }
    }

    public override string ToString() =>
        $"source {SourceRows} rows, sink {SinkRows}: missing_in_sink {MissingInSink}, stale {Stale}, resurrected {Resurrected}, corrupt {Corrupt}"
        + (Examples.Count > 0 ? "\n  " + string.Join("\n  ", Examples) : "");
}
