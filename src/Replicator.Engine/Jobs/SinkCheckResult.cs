namespace Replicator.Engine.Jobs;

/// <summary>How one table compares: rows on each side, what differs, and the first differing keys.</summary>
public sealed record SinkCheckResult(string Schema, string Table, int SourceRows, int SinkRows, int MissingInSink, int ExtraInSink, int Different, IReadOnlyList<SinkCheckResult.Difference> Differences)
{
    /// <summary>How many differing keys a result lists at most.</summary>
    public const int MaxDifferences = 10;

    public bool Matches => MissingInSink == 0 && ExtraInSink == 0 && Different == 0;

    /// <summary>The listed differences as text, one line each.</summary>
    public IReadOnlyList<string> Examples => Differences.Select(d => d.ToString()).ToList();

    public override string ToString() =>
        Matches
            ? $"{Schema}.{Table}: match ({SourceRows} rows)"
            : $"{Schema}.{Table}: MISMATCH source {SourceRows} rows, sink {SinkRows}; missing {MissingInSink}, extra {ExtraInSink}, different {Different}";

    /// <summary>A row that differs: its canonical pk and how.</summary>
    public sealed record Difference(string Schema, string Table, string Pk, string What)
    {
        public override string ToString() => $"{Schema}.{Table} pk {Pk}: {What}";
    }
}
