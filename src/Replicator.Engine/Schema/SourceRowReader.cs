using System.Collections.Concurrent;
using MySqlConnector;
using Replicator.Binlog.Columns;

namespace Replicator.Engine.Schema;

/// <summary>
/// Reads current rows of a source table by key (its primary key, or configured key columns), each value rendered by the server in the
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
    private readonly bool _ownsDataSource;
    private readonly ConcurrentDictionary<(string, string), TableColumns> _tables = new();
    private readonly ConcurrentDictionary<(string, string), string> _namesChecked = new();

    /// <summary>A reader with a pool of its own, disposed with it.</summary>
    public SourceRowReader(string connectionString, int maxConnections = 8)
    {
        _dataSource = new MySqlDataSource(ConnectionStringFor(connectionString, maxConnections));
        _ownsDataSource = true;
    }

    /// <summary>A reader over a shared data source (see <see cref="Jobs.MySqlDataSources"/>), which it does not dispose; build its connection string with <see cref="ConnectionStringFor"/>.</summary>
    public SourceRowReader(MySqlDataSource dataSource)
    {
        _dataSource = dataSource;
    }

    /// <summary>The settings a reader's connections use: no password kept on open connections, at most <paramref name="maxConnections"/> of them.</summary>
    public static string ConnectionStringFor(string connectionString, int maxConnections = 8) =>
        new MySqlConnectionStringBuilder(connectionString) { PersistSecurityInfo = false, MaximumPoolSize = (uint)maxConnections }.ConnectionString;

    /// <summary>A table's columns in order, its primary key's ordinals in key order (empty without one), and which hold bytes.</summary>
    public sealed record TableColumns(IReadOnlyList<string> Names, IReadOnlyList<string> DataTypes, IReadOnlyList<int> Key)
    {
        public bool IsBinary(int ordinal) => DataTypes[ordinal] is "binary" or "varbinary" or "blob" or "tinyblob" or "mediumblob" or "longblob" or "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection";

        /// <summary>The ordinal of a column by name (ignoring case, as MySQL compares column names), or -1.</summary>
        public int OrdinalOf(string name)
        {
            for (var i = 0; i < Names.Count; i++)
            {
                if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>True when <paramref name="names"/> are these columns, in this order.</summary>
        public bool HasNames(IReadOnlyList<string> names)
        {
            if (names.Count != Names.Count)
            {
                return false;
            }

            for (var i = 0; i < names.Count; i++)
            {
                if (!string.Equals(Names[i], names[i], StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>A row as read: values by column, null for SQL NULL; strings, or byte arrays for binary columns.</summary>
    public sealed record Row(IReadOnlyList<object?> Values);

    /// <summary>Rows read by key: the columns they were read with, and the rows by canonical key text (in the key's own column order).</summary>
    public sealed record RowSet(TableColumns Columns, IReadOnlyDictionary<string, Row> Rows);

    /// <summary>A table's columns as the source has them now (cached until <see cref="Invalidate"/>).</summary>
    public async Task<TableColumns> ColumnsAsync(string schema, string table, CancellationToken cancellationToken = default)
    {
        if (_tables.TryGetValue((schema, table), out var known))
        {
            return known;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        var types = new List<string>();
        await using (var command = new MySqlCommand(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=@s AND TABLE_NAME=@t ORDER BY ORDINAL_POSITION", connection))
        {
            command.Parameters.AddWithValue("@s", schema);
            command.Parameters.AddWithValue("@t", table);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(reader.GetString(0));
                types.Add(reader.GetString(1).ToLowerInvariant());
            }
        }

        if (names.Count == 0)
        {
            throw new InvalidOperationException($"Table {schema}.{table} does not exist on the source.");
        }

        // COLUMN_KEY = PRI only says which columns are in the key; the key's order is the index's,
        // which is the order the binlog's key (and so every canonical pk text) has.
        var key = new List<int>();
        await using (var command = new MySqlCommand(
            "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=@s AND TABLE_NAME=@t AND INDEX_NAME='PRIMARY' ORDER BY SEQ_IN_INDEX", connection))
        {
            command.Parameters.AddWithValue("@s", schema);
            command.Parameters.AddWithValue("@t", table);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.GetString(0);
                key.Add(names.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase)));
            }
        }

        var columns = new TableColumns(names, types, key);
        _tables[(schema, table)] = columns;
        return columns;
    }

    /// <summary>Forgets a table's columns (after DDL).</summary>
    public void Invalidate(string schema, string table) => _tables.TryRemove((schema, table), out _);

    /// <summary>
    /// Every row of a table (for checks), keyed by the canonical pk text of <paramref name="keyColumns"/>
    /// (the table's primary key when null).
    /// </summary>
    public async Task<Dictionary<string, Row>> ReadAllAsync(string schema, string table, IReadOnlyList<string>? keyColumns = null, CancellationToken cancellationToken = default)
    {
        var columns = await ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
        return await QueryAsync(schema, table, columns, KeyOrdinals(schema, table, columns, keyColumns)!, "", [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The current rows of the given keys, read by the key's own columns in its own order
    /// (<paramref name="keyColumns"/>: a <see cref="Model.RowKey"/>'s names, the primary key's or the
    /// configured key-columns), one value per key column as captured. Keys that no longer exist are
    /// absent from the result. The table's columns are read again when the cached ones are stale: when
    /// a key column is not among them, when a column read is gone, or when <paramref name="currentColumns"/>
    /// (the columns of the newest change captured, its row image's names) differ from them.
    /// </summary>
    public async Task<RowSet> ReadAsync(
        string schema,
        string table,
        IReadOnlyList<string> keyColumns,
        IReadOnlyList<IReadOnlyList<ColumnValue>> keys,
        IReadOnlyList<string>? currentColumns = null,
        CancellationToken cancellationToken = default)
    {
        var columns = await ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
        var ordinals = KeyOrdinals(schema, table, columns, keyColumns, throwIfMissing: false);
        if (ordinals is null || (currentColumns is not null && !columns.HasNames(currentColumns) && FirstSeen(schema, table, currentColumns)))
        {
            Invalidate(schema, table);
            columns = await ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
            ordinals = KeyOrdinals(schema, table, columns, keyColumns)!;
        }

        try
        {
            return new RowSet(columns, await QueryByKeysAsync(schema, table, columns, ordinals, keys, cancellationToken).ConfigureAwait(false));
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.BadFieldError)
        {
            // A column was dropped since the columns were read.
            Invalidate(schema, table);
            columns = await ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
            ordinals = KeyOrdinals(schema, table, columns, keyColumns)!;
            return new RowSet(columns, await QueryByKeysAsync(schema, table, columns, ordinals, keys, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// True the first time a table is asked for with these column names since they last differed
    /// from its columns: changes captured before a DDL and applied after it carry the old names,
    /// and must not each read the table's columns again.
    /// </summary>
    private bool FirstSeen(string schema, string table, IReadOnlyList<string> names)
    {
        var text = string.Join('\u0001', names);
        if (_namesChecked.TryGetValue((schema, table), out var last) && last == text)
        {
            return false;
        }

        _namesChecked[(schema, table)] = text;
        return true;
    }

    private Task<Dictionary<string, Row>> QueryByKeysAsync(string schema, string table, TableColumns columns, int[] ordinals, IReadOnlyList<IReadOnlyList<ColumnValue>> keys, CancellationToken cancellationToken)
    {
        var parameters = new List<MySqlParameter>();
        var tuples = new List<string>();
        foreach (var key in keys)
        {
            if (key.Count != ordinals.Length)
            {
                throw new ArgumentException($"A key of {schema}.{table} has {key.Count} values for {ordinals.Length} key columns.", nameof(keys));
            }

            var names = new List<string>();
            for (var k = 0; k < ordinals.Length; k++)
            {
                var name = "@k" + parameters.Count;
                parameters.Add(new MySqlParameter(name, KeyParameter(key[k])));
                names.Add(name);
            }

            tuples.Add(ordinals.Length == 1 ? names[0] : "(" + string.Join(", ", names) + ")");
        }

        var keyList = ordinals.Length == 1 ? Quote(columns.Names[ordinals[0]]) : "(" + string.Join(", ", ordinals.Select(k => Quote(columns.Names[k]))) + ")";
        return QueryAsync(schema, table, columns, ordinals, $" WHERE {keyList} IN ({string.Join(", ", tuples)})", parameters, cancellationToken);
    }

    /// <summary>
    /// The ordinals of the key columns, in the key's order: the named ones, or the primary key's.
    /// Null (or a clear error when <paramref name="throwIfMissing"/>) when a named column is not the table's.
    /// </summary>
    private static int[]? KeyOrdinals(string schema, string table, TableColumns columns, IReadOnlyList<string>? keyColumns, bool throwIfMissing = true)
    {
        if (keyColumns is null || keyColumns.Count == 0)
        {
            return columns.Key.Count > 0
                ? columns.Key.ToArray()
                : throw new InvalidOperationException($"Table {schema}.{table} has no primary key to read rows by. Set key-columns {{ \"{schema}.{table}\" = [<column>, …] }} in the source's config.");
        }

        var ordinals = new int[keyColumns.Count];
        for (var i = 0; i < ordinals.Length; i++)
        {
            ordinals[i] = columns.OrdinalOf(keyColumns[i]);
            if (ordinals[i] < 0)
            {
                return throwIfMissing
                    ? throw new InvalidOperationException($"Key column '{keyColumns[i]}' of {schema}.{table} is not one of its columns on the source ({string.Join(", ", columns.Names)}).")
                    : null;
            }
        }

        return ordinals;
    }

    private async Task<Dictionary<string, Row>> QueryAsync(string schema, string table, TableColumns columns, int[] keyOrdinals, string where, IReadOnlyList<MySqlParameter> parameters, CancellationToken cancellationToken)
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

            rows[CanonicalKey(keyOrdinals.Select(k => values[k] is byte[] b ? Convert.ToBase64String(b) : (string?)values[k] ?? ""))] = new Row(values);
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

    public ValueTask DisposeAsync() => _ownsDataSource ? _dataSource.DisposeAsync() : ValueTask.CompletedTask;
}
