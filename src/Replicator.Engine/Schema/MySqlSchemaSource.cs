using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using MySqlConnector;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;

namespace Replicator.Engine.Schema;

/// <summary>
/// Completes table maps from information_schema through MySqlConnector when the server sends no
/// (or partial) optional metadata: column names, primary key, signedness, collations, ENUM/SET
/// names and which columns hold JSON. Cached per table; <see cref="Invalidate"/> drops a table on
/// DDL. What the table map already says is kept; information_schema only fills gaps.
/// </summary>
/// <remarks>
/// information_schema describes the table as it is now, not as it was when an old event was
/// written. When the column counts or the column types disagree with the table map (a DDL happened
/// since), nothing is guessed: a table map with its own column names keeps its own view, and one
/// without gets a <see cref="TableSchema.MappingProblem"/> so that its rows are refused, not
/// attributed to the wrong columns.
/// <para>
/// A DDL that keeps the shape (two same-typed columns swapped or renamed) shows in neither count
/// nor types. So names read here carry the binlog end when they were read
/// (<see cref="TableSchema.NamesAsOf"/>), and before they are used for rows logged earlier, the
/// binlog between those rows and that end is scanned for DDL (<see cref="History"/>; SHOW BINLOG
/// EVENTS, which needs the REPLICATION CLIENT the capture user has): the capture refuses to label
/// rows across one.
/// </para>
/// </remarks>
public sealed partial class MySqlSchemaSource : ITableSchemaSource, IAsyncDisposable
{
    private readonly MySqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly ConcurrentDictionary<(string, string), TableInfo?> _cache = new();

    // The last completion per table: the decoder hands over the same schema object for a repeated
    // TABLE_MAP, and gets the same completed object back, so rows keep one schema and one shape.
    private readonly ConcurrentDictionary<(string, string), (TableSchema From, TableInfo? Info, TableSchema? Completed)> _completed = new();
    private Dictionary<string, int>? _collations;

    /// <summary>Events read per SHOW BINLOG EVENTS while scanning for DDL.</summary>
    private const int ScanPage = 5000;

    /// <summary>A schema source with a pool of its own, disposed with it.</summary>
    public MySqlSchemaSource(string connectionString)
    {
        _dataSource = new MySqlDataSource(ConnectionStringFor(connectionString));
        _ownsDataSource = true;
    }

    /// <summary>A schema source over a shared data source (see <see cref="Jobs.MySqlDataSources"/>), which it does not dispose; build its connection string with <see cref="ConnectionStringFor"/>.</summary>
    public MySqlSchemaSource(MySqlDataSource dataSource)
    {
        _dataSource = dataSource;
    }

    /// <summary>The settings the schema reader's connections use: pooled, at most 4, no password kept on open connections.</summary>
    public static string ConnectionStringFor(string connectionString) =>
        new MySqlConnectionStringBuilder(connectionString) { Pooling = true, MaximumPoolSize = 4, PersistSecurityInfo = false }.ConnectionString;

    /// <summary>The DDL found between row events and the positions their names were read as of.</summary>
    public DdlHistory History { get; } = new();

    public async ValueTask<TableSchema?> CompleteAsync(TableMapEvent tableMap, TableSchema fromTableMap, CancellationToken cancellationToken)
    {
        var optional = tableMap.Optional;
        var complete = optional.ColumnNames is not null && optional.PrimaryKey is not null && optional.Unsigned is not null && optional.ColumnCollations is not null;
        if (complete && !fromTableMap.Columns.Any(c => c.Type is ColumnType.Blob or ColumnType.LongBlob or ColumnType.String or ColumnType.VarChar))
        {
            return null;
        }

        var key = (tableMap.Database, tableMap.Table);
        if (!_cache.TryGetValue(key, out var info))
        {
            info = await LoadAsync(tableMap.Database, tableMap.Table, cancellationToken).ConfigureAwait(false);
            _cache[key] = info;
        }

        if (optional.ColumnNames is null && info?.AsOf is { } asOf && tableMap.File.Length > 0)
        {
            // These names may label rows logged before asOf: what DDL lies between must be known first.
            await ScanAsync(new BinlogPosition(tableMap.File, tableMap.Header.Position), asOf, cancellationToken).ConfigureAwait(false);
        }

        if (_completed.TryGetValue(key, out var last) && ReferenceEquals(last.From, fromTableMap) && ReferenceEquals(last.Info, info))
        {
            return last.Completed;
        }

        var completed = Complete(info, fromTableMap, optional);
        _completed[key] = (fromTableMap, info, completed);
        return completed;
    }

    private static TableSchema? Complete(TableInfo? info, TableSchema fromTableMap, TableMapOptionalMetadata optional)
    {
        var problem = Mismatch(info, fromTableMap);
        if (info is null || problem is not null)
        {
            if (optional.ColumnNames is not null)
            {
                return null;
            }

            return new TableSchema(fromTableMap.Schema, fromTableMap.Table, fromTableMap.Columns, fromTableMap.PrimaryKey)
            {
                MappingProblem = problem! + " Set binlog_row_metadata=FULL on the source so that the binlog carries column names, or start reading after the DDL.",
            };
        }

        var columns = new ColumnDefinition[fromTableMap.Columns.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            var mapped = fromTableMap.Columns[i];
            var known = info.Columns[i];
            columns[i] = mapped with
            {
                Name = optional.ColumnNames is null ? known.Name : mapped.Name,
                Unsigned = optional.Unsigned is null ? known.Unsigned : mapped.Unsigned,
                Collation = mapped.Collation != 0 ? mapped.Collation : known.Collation,
                EnumValues = mapped.EnumValues ?? known.EnumValues,
                SetValues = mapped.SetValues ?? known.SetValues,
                IsJson = mapped.IsJson || known.IsJson,
            };
        }

        var primaryKey = fromTableMap.PrimaryKey.Count > 0 ? fromTableMap.PrimaryKey : info.PrimaryKey;
        return new TableSchema(fromTableMap.Schema, fromTableMap.Table, columns, primaryKey)
        {
            NamesAsOf = optional.ColumnNames is null ? info.AsOf : null,
        };
    }

    /// <summary>Why information_schema's view of a table cannot name the columns of <paramref name="fromTableMap"/>, or null when it can.</summary>
    private static string? Mismatch(TableInfo? info, TableSchema fromTableMap)
    {
        var name = $"{fromTableMap.Schema}.{fromTableMap.Table}";
        if (info is null)
        {
            return $"Table {name} is not in information_schema any more (dropped or renamed since these rows were written), so its columns cannot be named.";
        }

        if (info.Columns.Count != fromTableMap.Columns.Count)
        {
            return $"information_schema describes {name} with {info.Columns.Count} columns but the binlog's TABLE_MAP has {fromTableMap.Columns.Count}: the table was altered after these rows were written, so their columns cannot be named.";
        }

        for (var i = 0; i < info.Columns.Count; i++)
        {
            if (info.DataTypes is { } types && !Compatible(types[i], fromTableMap.Columns[i].Type))
            {
                return $"Column {i + 1} of {name} is {types[i]} in information_schema but {fromTableMap.Columns[i].Type} in the binlog's TABLE_MAP: the table was altered after these rows were written, so their columns cannot be named.";
            }
        }

        return null;
    }

    /// <summary>Whether an information_schema DATA_TYPE can be stored as a TABLE_MAP column type. Unknown types (plugins) are given the benefit of the doubt.</summary>
    internal static bool Compatible(string dataType, ColumnType type) => dataType switch
    {
        "tinyint" => type == ColumnType.Tiny,
        "smallint" => type == ColumnType.Short,
        "mediumint" => type == ColumnType.Int24,
        "int" or "integer" => type == ColumnType.Long,
        "bigint" => type == ColumnType.LongLong,
        "decimal" or "numeric" => type is ColumnType.NewDecimal or ColumnType.Decimal,
        "float" => type == ColumnType.Float,
        "double" or "real" => type == ColumnType.Double,
        "bit" => type == ColumnType.Bit,
        "year" => type == ColumnType.Year,
        "date" => type is ColumnType.Date or ColumnType.NewDate,
        "time" => type is ColumnType.Time or ColumnType.Time2,
        "datetime" => type is ColumnType.DateTime or ColumnType.DateTime2,
        "timestamp" => type is ColumnType.Timestamp or ColumnType.Timestamp2,
        "char" or "binary" => type == ColumnType.String,
        "varchar" or "varbinary" => type is ColumnType.VarChar or ColumnType.VarString,
        "enum" => type == ColumnType.Enum,
        "set" => type == ColumnType.Set,
        "tinytext" or "text" or "mediumtext" or "longtext" or "tinyblob" or "blob" or "mediumblob" or "longblob" =>
            type is ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob,
        "json" => type is ColumnType.Json or ColumnType.Blob or ColumnType.LongBlob,
        "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" or "geomcollection" =>
            type == ColumnType.Geometry,
        _ => true,
    };

    public void Invalidate(string? schema, string? table)
    {
        if (schema is null || table is null)
        {
            _cache.Clear();
            _completed.Clear();
            return;
        }

        _cache.TryRemove((schema, table), out _);
        _completed.TryRemove((schema, table), out _);
    }

    /// <summary>Reads a table's columns and key; null when the table does not exist (any more).</summary>
    public async Task<TableInfo?> LoadAsync(string schema, string table, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        _collations ??= await LoadCollationsAsync(connection, cancellationToken).ConfigureAwait(false);

        var columns = new List<ColumnDefinition>();
        var dataTypes = new List<string>();
        var primaryKey = new List<int>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COLUMN_KEY, COLLATION_NAME, IS_NULLABLE
                FROM information_schema.COLUMNS
                WHERE TABLE_SCHEMA = @schema AND TABLE_NAME = @table
                ORDER BY ORDINAL_POSITION
                """;
            command.Parameters.AddWithValue("@schema", schema);
            command.Parameters.AddWithValue("@table", table);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.GetString(0);
                var dataType = reader.GetString(1).ToLowerInvariant();
                var columnType = reader.GetString(2);
                var collation = reader.IsDBNull(4) ? null : reader.GetString(4);
                if (reader.GetString(3) == "PRI")
                {
                    primaryKey.Add(columns.Count);
                }

                dataTypes.Add(dataType);
                columns.Add(new ColumnDefinition(
                    name,
                    ColumnType.Null,
                    0,
                    Nullable: reader.GetString(5) == "YES",
                    Unsigned: columnType.Contains("unsigned", StringComparison.OrdinalIgnoreCase),
                    // Binary strings have no COLLATION_NAME in information_schema; they are the binary collation.
                    Collation: collation is not null && _collations.TryGetValue(collation, out var id) ? id
                        : IsBinaryString(dataType) ? BinaryCollation : 0,
                    EnumValues: dataType == "enum" ? ParseValues(columnType) : null,
                    SetValues: dataType == "set" ? ParseValues(columnType) : null,
                    IsJson: dataType == "json"));
            }
        }

        if (columns.Count == 0)
        {
            return null;
        }

        // KEY_COLUMN_USAGE gives the primary key in key order (COLUMN_KEY=PRI only says membership).
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
                WHERE TABLE_SCHEMA = @schema AND TABLE_NAME = @table AND CONSTRAINT_NAME = 'PRIMARY'
                ORDER BY ORDINAL_POSITION
                """;
            command.Parameters.AddWithValue("@schema", schema);
            command.Parameters.AddWithValue("@table", table);
            var ordered = new List<int>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.GetString(0);
                var index = columns.FindIndex(c => c.Name == name);
                if (index >= 0)
                {
                    ordered.Add(index);
                }
            }

            if (ordered.Count == primaryKey.Count)
            {
                primaryKey = ordered;
            }
        }

        // MariaDB's JSON is LONGTEXT with a json_valid() check constraint.
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
                WHERE CONSTRAINT_SCHEMA = @schema AND TABLE_NAME = @table
                """;
            command.Parameters.AddWithValue("@schema", schema);
            command.Parameters.AddWithValue("@table", table);
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var match = JsonValid().Match(reader.GetString(0));
                    if (match.Success)
                    {
                        var index = columns.FindIndex(c => c.Name == match.Groups[1].Value);
                        if (index >= 0)
                        {
                            columns[index] = columns[index] with { IsJson = true };
                        }
                    }
                }
            }
            catch (MySqlException)
            {
                // Servers without CHECK_CONSTRAINTS (MySQL 5.7) have no JSON-as-text columns either.
            }
        }

        // Read after the table: a DDL it reflects is logged before this end (the server logs DDL
        // before it lets information_schema's readers see the table again).
        var asOf = await BinlogEndAsync(connection, cancellationToken).ConfigureAwait(false);
        return new TableInfo(columns, primaryKey, dataTypes, asOf);
    }

    /// <summary>The end of the server's binlog: SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL 8.4+); null without binary logging.</summary>
    private static async Task<BinlogPosition?> BinlogEndAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        foreach (var statement in (string[])["SHOW MASTER STATUS", "SHOW BINARY LOG STATUS"])
        {
            try
            {
                await using var command = connection.CreateCommand();
                command.CommandText = statement;
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    ? new BinlogPosition(reader.GetString(0), Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture))
                    : null;
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.ParseError && statement == "SHOW MASTER STATUS")
            {
                // MySQL 8.4 removed SHOW MASTER STATUS.
            }
        }

        return null;
    }

    /// <summary>
    /// Makes <see cref="History"/> know every DDL in [<paramref name="from"/>, <paramref name="to"/>),
    /// reading the stretches it lacks with SHOW BINLOG EVENTS, page by page (both ends are event
    /// boundaries: a TABLE_MAP's position and a binlog end). Hand-written because no library reads
    /// a server's binlog events through SQL; only QUERY events are looked at.
    /// </summary>
    private async Task ScanAsync(BinlogPosition from, BinlogPosition to, CancellationToken cancellationToken)
    {
        var missing = History.Missing(from, to);
        if (missing.Count == 0)
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var files = new List<string>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SHOW BINARY LOGS";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                files.Add(reader.GetString(0));
            }
        }

        foreach (var (start, end) in missing)
        {
            foreach (var file in files.Where(f => BinlogPosition.StartOf(f) >= BinlogPosition.StartOf(start.File) && BinlogPosition.StartOf(f) <= end))
            {
                var fileStart = file == start.File ? start : BinlogPosition.StartOf(file);
                if (await ScanFileAsync(connection, fileStart, end, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }

            History.Scanned(start, end, []);
        }
    }

    /// <summary>
    /// Scans one file from <paramref name="from"/> until <paramref name="end"/> or the file's end,
    /// recording each page in <see cref="History"/> as it goes (a long backlog interrupted half-way
    /// is not scanned again). A start that is not an event boundary (a TABLE_MAP inside a
    /// compressed payload) is scanned from the file's first event instead. True when
    /// <paramref name="end"/> was reached.
    /// </summary>
    private async Task<bool> ScanFileAsync(MySqlConnection connection, BinlogPosition from, BinlogPosition end, CancellationToken cancellationToken)
    {
        var file = from.File;
        var position = Math.Max(from.Position, BinlogPosition.FirstEventPosition);
        var scannedFrom = from;
        while (true)
        {
            var read = 0;
            var found = new List<DdlHistory.Ddl>();
            var reached = false;
            try
            {
                await using var command = connection.CreateCommand();
                command.CommandText = $"SHOW BINLOG EVENTS IN @file FROM {position.ToString(System.Globalization.CultureInfo.InvariantCulture)} LIMIT {ScanPage.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
                command.Parameters.AddWithValue("@file", file);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    read++;
                    var at = new BinlogPosition(file, Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture));
                    var next = Convert.ToInt64(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture);
                    if (at >= end)
                    {
                        reached = true;
                        break;
                    }

                    if (next <= at.Position)
                    {
                        throw new InvalidOperationException($"SHOW BINLOG EVENTS gives the event at {at} an end ({next}) that is not after it; the binlog cannot be scanned for DDL. Set binlog_row_metadata=FULL on the source.");
                    }

                    position = next;
                    if (reader.GetString(2) == "Query" && !reader.IsDBNull(5) && at >= from)
                    {
                        var (schema, sql) = SplitUse(reader.GetString(5));
                        found.AddRange(DdlHistory.Of(sql, schema, at, new BinlogPosition(file, next)));
                    }
                }
            }
            catch (MySqlException) when (read == 0 && position == from.Position && position > BinlogPosition.FirstEventPosition)
            {
                // Not an event boundary: read the file from its start, keeping what is at or after from.
                position = BinlogPosition.FirstEventPosition;
                continue;
            }

            var through = reached ? end : new BinlogPosition(file, position);
            if (through > scannedFrom)
            {
                History.Scanned(scannedFrom, through, found);
            }

            if (reached)
            {
                return true;
            }

            if (read < ScanPage)
            {
                return false;
            }
        }
    }

    /// <summary>SHOW BINLOG EVENTS shows a QUERY event logged with a default schema as <c>use `db`; sql</c>.</summary>
    internal static (string Schema, string Sql) SplitUse(string info)
    {
        var match = UsePrefix().Match(info);
        return match.Success ? (match.Groups["db"].Value.Replace("``", "`", StringComparison.Ordinal), info[match.Length..]) : ("", info);
    }

    private const int BinaryCollation = 63;

    private static bool IsBinaryString(string dataType) =>
        dataType is "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob";

    private static async Task<Dictionary<string, int>> LoadCollationsAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var collations = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COLLATION_NAME, ID FROM information_schema.COLLATIONS";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!reader.IsDBNull(1))
            {
                collations[reader.GetString(0)] = Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return collations;
    }

    /// <summary>The names of <c>enum('a','b')</c> or <c>set('x','y')</c>, with '' unescaped.</summary>
    internal static IReadOnlyList<string> ParseValues(string columnType)
    {
        var open = columnType.IndexOf('(', StringComparison.Ordinal);
        var close = columnType.LastIndexOf(')');
        var values = new List<string>();
        if (open < 0 || close <= open)
        {
            return values;
        }

        var body = columnType.AsSpan(open + 1, close - open - 1);
        var current = new System.Text.StringBuilder();
        var inQuote = false;
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (inQuote)
            {
                if (c == '\'' && i + 1 < body.Length && body[i + 1] == '\'')
                {
                    current.Append('\'');
                    i++;
                }
                else if (c == '\'')
                {
                    inQuote = false;
                    values.Add(current.ToString());
                    current.Clear();
                }
                else if (c == '\\' && i + 1 < body.Length)
                {
                    current.Append(body[++i]);
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '\'')
            {
                inQuote = true;
            }
        }

        return values;
    }

    public ValueTask DisposeAsync() => _ownsDataSource ? _dataSource.DisposeAsync() : ValueTask.CompletedTask;

    [GeneratedRegex(@"^use `(?<db>(?:[^`]|``)*)`; ", RegexOptions.CultureInvariant)]
    private static partial Regex UsePrefix();

    [GeneratedRegex(@"json_valid\(`([^`]+)`\)", RegexOptions.IgnoreCase)]
    private static partial Regex JsonValid();

    /// <summary>What information_schema says of a table.</summary>
    /// <param name="DataTypes">information_schema's DATA_TYPE of each column, lower case.</param>
    /// <param name="AsOf">The server's binlog end when the table was read: it is described as of there.</param>
    public sealed record TableInfo(IReadOnlyList<ColumnDefinition> Columns, IReadOnlyList<int> PrimaryKey, IReadOnlyList<string>? DataTypes = null, BinlogPosition? AsOf = null);
}
