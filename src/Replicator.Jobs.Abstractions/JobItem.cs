using Replicator.Model;

namespace Replicator.Jobs;

/// <summary>One pk of a batch: its key, its newest change, and which attempt this is (1 for the first).</summary>
public sealed record JobItem(RowKey Key, RowChange Change, int Attempt);
