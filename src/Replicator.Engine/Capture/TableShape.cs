using Replicator.Binlog.Columns;
using Replicator.Model;

namespace Replicator.Engine.Capture;

/// <summary>The column names and key ordinals of one table version, worked out once per TABLE_MAP schema.</summary>
internal sealed class TableShape
{
    private readonly int[] _keyOrdinals;
    private readonly string[] _keyNames;

    private TableShape(string[] names, int[] keyOrdinals)
    {
        Names = names;
        _keyOrdinals = keyOrdinals;
        _keyNames = keyOrdinals.Select(i => names[i]).ToArray();
    }

    public string[] Names { get; }

    public static TableShape Create(TableSchema table, IReadOnlyDictionary<string, IReadOnlyList<string>> keyColumns, bool allowKeyless = false)
    {
        var names = table.Columns.Select(c => c.Name).ToArray();
        var qualified = table.Schema + "." + table.Table;
        if (keyColumns.TryGetValue(qualified, out var configured) && configured.Count > 0)
        {
            var ordinals = configured.Select(name =>
            {
                var index = Array.FindIndex(names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
                return index >= 0
                    ? index
                    : throw new MissingKeyException(qualified, $"Key column '{name}' configured for table {qualified} is not one of its columns ({string.Join(", ", names)}). Fix key-columns for this table.");
            }).ToArray();
            return new TableShape(names, ordinals);
        }

        if (table.PrimaryKey.Count == 0 && allowKeyless)
        {
            return new TableShape(names, []);
        }

        if (table.PrimaryKey.Count == 0)
        {
            throw new MissingKeyException(
                qualified,
                $"Table {qualified} has no primary key{(table.HasColumnNames ? "" : " known (the server sent no column metadata: set binlog_row_metadata=FULL or give the source SELECT on information_schema)")}. "
                + $"Set key-columns {{ \"{qualified}\" = [<column>, …] }} in the source's config, or leave the table out of its tables list.");
        }

        return new TableShape(names, table.PrimaryKey.ToArray());
    }

    /// <summary>
    /// True when the after image of an update has the before image's key values (the common case,
    /// told apart without building keys); a key column the after image leaves out is unchanged.
    /// </summary>
    public bool SameKey(RowData before, RowData after)
    {
        foreach (var ordinal in _keyOrdinals)
        {
            var value = after.Values[ordinal];
            if (!value.IsAbsent && !value.Equals(before.Values[ordinal]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The key of <paramref name="image"/>, taking a key column the image leaves out (minimal row images) from <paramref name="fallback"/>.</summary>
    public RowKey KeyOf(RowData image, RowData? fallback)
    {
        var values = new ColumnValue[_keyOrdinals.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var value = image.Values[_keyOrdinals[i]];
            if (value.IsAbsent && fallback is not null)
            {
                value = fallback.Values[_keyOrdinals[i]];
            }

            values[i] = value;
        }

        return new RowKey(_keyNames, values);
    }
}
