using System.Collections.Concurrent;
using MySqlConnector;
using Replicator.Binlog.Columns;

namespace Replicator.Engine.Schema;

/// <summary>
/// Reads current rows of a source table by primary key, each value rendered by the server in the
/// event format's text (what <see cref="Binlog.Columns.ColumnValue.ToString"/> gives for the same
/// value), so a row read back compares and stores exactly like a row captured from the binlog.
/// Used by <c>pk</c>-mode jobs (meepo's model: the job reads the row itself) and by the checker.
/// </summary>
/// <remarks>
/// Binary columns come back as raw bytes. The session runs in UTC so TIMESTAMP values match the
/// captured ones.
/// </remarks>
public sealed class SourceRowReader : IAsyncDisposable
{
    private readonly MySqlDataSource _dataSource;
    private readonly ConcurrentDictionary<(string, string), TableColumns> _tables = new();

    public SourceRowReader(string connectionString, int maxConnections = 8)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString) { PersistSecurityInfo = false, MaximumPoolSize = (uint)maxConnections };
        _dataSource = new MySqlDataSource(builder.ConnectionString);
    }

    /// <summary>A table's columns in order, which are key columns, and which hold bytes.</summary>
    public sealed record TableColumns(IReadOnlyList<string> Names, IReadOnlyList<string> DataTypes, IReadOnlyList<int> Key)
    {
        public bool IsBinary(int ordinal) => DataTypes[ordinal] is "binary" or "varbinary" or "blob" or "tinyblob" or "mediumblob" or "longblob" or "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection";
    }

    /// <summary>A row as read: values by column, null for SQL NULL; strings, or byte arrays for binary columns.</summary>
    public sealed record Row(IReadOnlyList<object?> Values);

    public async Task<TableColumns> ColumnsAsync(string schema, string table, CancellationToken cancellationToken = default)
    {
        if (_tables.TryGetValue((schema, table), out var known))
        {
            return known;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        var types = new List<string>();
        var key = new List<int>();
        await using (var command = new MySqlCommand(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=@s AND TABLE_NAME=@t ORDER BY ORDINAL_POSITION", connection))
        {
            command.Parameters.AddWithValue("@s", schema);
            command.Parameters.AddWithValue("@t", table);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.GetString(2) == "PRI")
                {
                    key.Add(names.Count);
                }

                names.Add(reader.GetString(0));
                types.Add(reader.GetString(1).ToLowerInvariant());
            }
        }

        if (names.Count == 0)
        {
            throw new InvalidOperationException($"Table {schema}.{table} does not exist on the source.");
        }

        var columns = new TableColumns(names, types, key);
        _tables[(schema, table)] = columns;
        return columns;
    }

    /// <summary>Forgets a table's columns (after DDL).</summary>
    public void Invalidate(string schema, string table) => _tables.TryRemove((schema, table), out _);

    /// <summary>Every row of a table (for checks), keyed by the canonical pk text.</summary>
    public async Task<Dictionary<string, Row>> ReadAllAsync(string schema, string table, CancellationToken cancellationToken = default)
    {
        var columns = await ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
        return await QueryAsync(schema, table, columns, "", [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The current rows of the given pks (one value per key column, as captured); pks that no longer exist are absent from the result.</summary>
    public async Task<Dictionary<string, Row>> ReadAsync(string schema, string table, IReadOnlyList<IReadOnlyList<ColumnValue>> keys, CancellationToken cancellationToken = default)
    {
        var columns = await ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
        if (columns.Key.Count == 0)
        {
            throw new InvalidOperationException($"Table {schema}.{table} has no primary key to read rows by.");
        }

        var parameters = new List<MySqlParameter>();
        var tuples = new List<string>();
        foreach (var key in keys)
        {
            var names = new List<string>();
            for (var k = 0; k < columns.Key.Count; k++)
            {
                var name = "@k" + parameters.Count;
                parameters.Add(new MySqlParameter(name, KeyParameter(key[k])));
                names.Add(name);
            }

            tuples.Add(columns.Key.Count == 1 ? names[0] : "(" + string.Join(", ", names) + ")");
        }

        var keyList = columns.Key.Count == 1 ? Quote(columns.Names[columns.Key[0]]) : "(" + string.Join(", ", columns.Key.Select(k => Quote(columns.Names[k]))) + ")";
        return await QueryAsync(schema, table, columns, $" WHERE {keyList} IN ({string.Join(", ", tuples)})", parameters, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Dictionary<string, Row>> QueryAsync(string schema, string table, TableColumns columns, string where, IReadOnlyList<MySqlParameter> parameters, CancellationToken cancellationToken)
    {
        var select = string.Join(", ", columns.Names.Select((name, i) => Render(name, columns.DataTypes[i])));
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var tz = new MySqlCommand("SET time_zone = '+00:00'", connection))
        {
            await tz.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var command = new MySqlCommand($"SELECT {select} FROM {Quote(schema)}.{Quote(table)}{where}", connection);
        command.Parameters.AddRange(parameters.ToArray());
        var rows = new Dictionary<string, Row>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var values = new object?[columns.Names.Count];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.IsDBNull(i) ? null : columns.IsBinary(i) ? (byte[])reader.GetValue(i) : reader.GetString(i);
            }

            rows[CanonicalKey(columns.Key.Select(k => values[k] is byte[] b ? Convert.ToBase64String(b) : (string?)values[k] ?? ""))] = new Row(values);
        }

        return rows;
    }

    /// <summary>
    /// A captured key value as the query parameter that matches it: bytes as bytes (their event
    /// text is base64), integers and BIT as numbers, DATETIME and TIMESTAMP as SQL literals (the
    /// session runs in UTC), everything else as its event text, which MySQL compares exactly
    /// (DECIMAL digits, ENUM and SET names, DATE, TIME, YEAR, text).
    /// </summary>
    internal static object KeyParameter(ColumnValue value) => value.Kind switch
    {
        ValueKind.Bytes or ValueKind.Geometry or ValueKind.Vector => value.AsBytes()!,
        ValueKind.Int64 or ValueKind.Year => value.AsInt64(),
        ValueKind.UInt64 or ValueKind.Bit => value.AsUInt64(),
        ValueKind.DateTime => value.ToString().Replace('T', ' '),
        ValueKind.Timestamp => value.ToString().TrimEnd('Z').Replace('T', ' '),
        _ => value.ToString(),
    };

    /// <summary>The canonical pk text (as <see cref="Model.RowKey"/> builds it) from the key values' texts.</summary>
    public static string CanonicalKey(IEnumerable<string> values) =>
        string.Join(':', values.Select(v => v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal)));

    private static string Render(string column, string dataType)
    {
        var c = Quote(column);
        return dataType switch
        {
            "datetime" => $"REPLACE(CAST({c} AS CHAR), ' ', 'T')",
            "timestamp" => $"CONCAT(REPLACE(CAST({c} AS CHAR), ' ', 'T'), 'Z')",
            "bit" => $"CAST({c} + 0 AS CHAR)",
            "binary" or "varbinary" or "blob" or "tinyblob" or "mediumblob" or "longblob" => c,
            "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" => $"ST_AsWKB({c})",
            _ => $"CAST({c} AS CHAR)",
        };
    }

    private static string Quote(string identifier) => "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
