namespace Replicator.Binlog.Network;

/// <summary>
/// The first result set of a text-protocol query: column names and rows of text values (null for
/// SQL NULL). A statement without a result set has no columns and reports its affected rows.
/// </summary>
public sealed class QueryResult
{
    public QueryResult(IReadOnlyList<string> columns, IReadOnlyList<string?[]> rows, ulong affectedRows)
    {
        Columns = columns;
        Rows = rows;
        AffectedRows = affectedRows;
    }

    public IReadOnlyList<string> Columns { get; }

    public IReadOnlyList<string?[]> Rows { get; }

    public ulong AffectedRows { get; }

    public bool IsEmpty => Rows.Count == 0;

    /// <summary>The ordinal of a column by name (case-insensitive), or -1.</summary>
    public int IndexOf(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i], column, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The value of a named column in a row.</summary>
    public string? Get(int row, string column)
    {
        var index = IndexOf(column);
        return index >= 0
            ? Rows[row][index]
            : throw new KeyNotFoundException($"The result has no column '{column}'; it has {string.Join(", ", Columns)}.");
    }

    public override string ToString() => $"{Columns.Count} columns, {Rows.Count} rows";
}
