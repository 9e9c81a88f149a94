using Replicator.Binlog.Columns;

namespace Replicator.Model;

/// <summary>
/// A row image with its column names. Names are shared by every row of a table version, values
/// are per row; a column left out of a partial image is <see cref="ColumnValue.Absent"/>.
/// </summary>
public sealed class RowData
{
    public RowData(IReadOnlyList<string> names, ColumnValue[] values)
    {
        if (names.Count != values.Length)
        {
            throw new ArgumentException($"A row has {values.Length} values for {names.Count} column names.", nameof(values));
        }

        Names = names;
        Values = values;
    }

    public IReadOnlyList<string> Names { get; }

    public ColumnValue[] Values { get; }

    public int Count => Values.Length;

    public ColumnValue this[string name]
    {
        get
        {
            for (var i = 0; i < Values.Length; i++)
            {
                if (Names[i] == name)
                {
                    return Values[i];
                }
            }

            return ColumnValue.Absent;
        }
    }
}
