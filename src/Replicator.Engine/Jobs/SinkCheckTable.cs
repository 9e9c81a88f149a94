namespace Replicator.Engine.Jobs;

/// <summary>A source table to compare, its rows keyed by <paramref name="KeyColumns"/> (a source's key-columns for it) or, when null, by its primary key.</summary>
public sealed record SinkCheckTable(string Schema, string Table, IReadOnlyList<string>? KeyColumns = null);
