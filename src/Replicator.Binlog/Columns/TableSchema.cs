namespace Replicator.Binlog.Columns;

/// <summary>
/// A captured table as the row decoder sees it: its columns in binlog order and the ordinals of its
/// primary key. Built from a TABLE_MAP event, completed from information_schema when the server did
/// not send the optional metadata.
/// </summary>
public sealed class TableSchema
{
    public TableSchema(string schema, string table, IReadOnlyList<ColumnDefinition> columns, IReadOnlyList<int> primaryKey)
    {
        Schema = schema;
        Table = table;
        Columns = columns;
        PrimaryKey = primaryKey;
    }

    public string Schema { get; }

    public string Table { get; }

    public IReadOnlyList<ColumnDefinition> Columns { get; }

    /// <summary>0-based ordinals of the primary key columns, in key order; empty when the table has none known.</summary>
    public IReadOnlyList<int> PrimaryKey { get; }

    /// <summary>
    /// Set by a schema source that could not name this table's columns for the rows at hand (the
    /// table changed since they were written, or no longer exists): why, and how to fix it. Rows of
    /// such a table must not be attributed to columns; the columns keep their <c>@N</c> names.
    /// </summary>
    public string? MappingProblem { get; init; }

    /// <summary>
    /// Set when the column names and key were read from information_schema (the binlog carried no
    /// names: binlog_row_metadata is not FULL): the server's binlog end when they were read. They
    /// describe the table as of that position, so a DDL logged between a row event and it may have
    /// renamed or reordered the columns the event's values belong to. Null when the names came
    /// from the event itself.
    /// </summary>
    public Positions.BinlogPosition? NamesAsOf { get; init; }

    /// <summary>True when the column names came from the server (optional metadata or information_schema), not <c>@N</c>.</summary>
    public bool HasColumnNames => Columns.Count == 0 || !Columns[0].Name.StartsWith('@');

    public override string ToString() => $"{Schema}.{Table}";
}
