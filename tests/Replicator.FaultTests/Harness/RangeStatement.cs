namespace Replicator.FaultTests.Harness;

/// <summary>F11's statements over a range of rows of their own (<see cref="Workload.RangeStatementAsync"/>).</summary>
public enum RangeStatement
{
    Insert,
    Update,
    Delete,
}
