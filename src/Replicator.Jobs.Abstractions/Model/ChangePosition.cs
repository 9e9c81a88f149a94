namespace Replicator.Model;

/// <summary>Where a change is in the source's binlog: the rows event's file and position, and the transaction's GTID when there is one.</summary>
public sealed record ChangePosition(string File, long Position, string? Gtid);
