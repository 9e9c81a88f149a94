using Replicator.Binlog.Columns;
using Replicator.Engine.Schema;
using Replicator.Model;

namespace Replicator.Engine.Replication;

/// <summary>
/// <see cref="ICurrentRows"/> over a <see cref="SourceRowReader"/>: each value as the server renders
/// it in the event format's text, typed where the text alone would lose it (integers as numbers,
/// DECIMAL and JSON as such, binary columns as bytes).
/// </summary>
public sealed class SourceCurrentRows(SourceRowReader reader) : ICurrentRows, IAsyncDisposable
{
    public async Task<IReadOnlyDictionary<string, RowData>> ReadAsync(string schema, string table, IReadOnlyList<RowKey> keys, IReadOnlyList<string>? currentColumns, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, RowData>(keys.Count);
        // Read by the key's own columns in its own order (the primary key's, or configured key-columns).
        foreach (var group in keys.GroupBy(k => string.Join('\u0001', k.Names)))
        {
            var read = await reader.ReadAsync(schema, table, group.First().Names, group.Select(k => (IReadOnlyList<ColumnValue>)k.Values).ToList(), currentColumns, cancellationToken).ConfigureAwait(false);
            var columns = read.Columns;
            foreach (var (key, row) in read.Rows)
            {
                var values = new ColumnValue[columns.Names.Count];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = ValueOf(row.Values[i], columns.DataTypes[i]);
                }

                result[key] = new RowData(columns.Names, values);
            }
        }

        return result;
    }

    private static ColumnValue ValueOf(object? value, string dataType) => value switch
    {
        null => ColumnValue.Null,
        byte[] bytes => ColumnValue.FromBytes(bytes),
        string text => dataType switch
        {
            "tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint" when long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var signed) => ColumnValue.FromInt64(signed),
            "bigint" when ulong.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var unsigned) => ColumnValue.FromUInt64(unsigned),
            "decimal" => ColumnValue.FromDecimal(text),
            "json" => ColumnValue.FromJson(text),
            _ => ColumnValue.FromString(text),
        },
        _ => ColumnValue.FromString(value.ToString() ?? ""),
    };

    public ValueTask DisposeAsync() => reader.DisposeAsync();
}
