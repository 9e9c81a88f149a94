namespace Replicator.Engine.Capture;

/// <summary>
/// Rows of a captured table cannot be attributed to its columns: the binlog carries no column names
/// and information_schema describes a different version of the table (a DDL since the rows were
/// written). Raised instead of guessing names.
/// </summary>
public sealed class TableMappingException : Exception
{
    public TableMappingException(string table, string message)
        : base(message)
    {
        Table = table;
    }

    /// <summary>The table as <c>schema.table</c>.</summary>
    public string Table { get; }
}
