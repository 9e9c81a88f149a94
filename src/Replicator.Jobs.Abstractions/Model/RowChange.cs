namespace Replicator.Model;

/// <summary>
/// One row change, as jobs and <c>replicator tail</c> see it (the event format of DESIGN.md).
/// A pk-changing UPDATE arrives as a delete of the old pk and a write of the new one.
/// </summary>
public sealed record RowChange(
    string Source,
    string Schema,
    string Table,
    ChangeAction Action,
    RowKey Key,
    RowData? Before,
    RowData? After,
    ChangePosition Position,
    SourceVersion Version,
    DateTime CommitTime)
{
    /// <summary>meepo's topic: <c>&lt;table&gt;_&lt;action&gt;</c>, e.g. <c>orders_write</c>.</summary>
    public string Topic => string.Concat(Table, "_", Action.Name());

    /// <summary>The image that holds the row after the change, or the one before it for a delete.</summary>
    public RowData? Image => After ?? Before;
}
