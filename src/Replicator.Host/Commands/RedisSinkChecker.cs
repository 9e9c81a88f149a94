using System.Text;
using MySqlConnector;
using StackExchange.Redis;

namespace Replicator.Host.Commands;

/// <summary>
/// Compares tables of a source with what a redis-cache job wrote: every row must be a hash under
/// <c>&lt;prefix&gt;&lt;schema&gt;:&lt;table&gt;:&lt;pk&gt;</c> with the row's non-NULL columns as fields,
/// and no other hash may exist under the table's prefix. MySQL renders each value in the event
/// format's text (binary columns as hex on both sides), so the comparison is row by row and
/// value by value.
/// </summary>
public sealed class RedisSinkChecker
{
    private readonly string _sourceConnectionString;
    private readonly IDatabase _redis;
    private readonly IServer _server;
    private readonly string _prefix;

    public RedisSinkChecker(string sourceConnectionString, IConnectionMultiplexer redis, string keyPrefix)
    {
        _sourceConnectionString = sourceConnectionString;
        _redis = redis.GetDatabase();
        _server = redis.GetServers()[0];
        _prefix = keyPrefix;
    }

    public async Task<CheckResult> CheckAsync(string schema, string table, CancellationToken cancellationToken = default)
    {
        await using var connection = new MySqlConnection(_sourceConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var tz = new MySqlCommand("SET time_zone = '+00:00'", connection))
        {
            await tz.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var columns = new List<(string Name, string Type, bool Key)>();
        await using (var command = new MySqlCommand(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=@s AND TABLE_NAME=@t ORDER BY ORDINAL_POSITION", connection))
        {
            command.Parameters.AddWithValue("@s", schema);
            command.Parameters.AddWithValue("@t", table);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                columns.Add((reader.GetString(0), reader.GetString(1).ToLowerInvariant(), reader.GetString(2) == "PRI"));
            }
        }

        if (columns.Count == 0)
        {
            throw new ArgumentException($"Table {schema}.{table} does not exist on the source.");
        }

        var keyColumns = columns.Where(c => c.Key).Select(c => c.Name).ToList();
        if (keyColumns.Count == 0)
        {
            throw new ArgumentException($"Table {schema}.{table} has no primary key to compare by.");
        }

        var select = string.Join(", ", columns.Select(c => Render(c.Name, c.Type)));
        var expected = new Dictionary<string, Dictionary<string, string>>();
        await using (var command = new MySqlCommand($"SELECT {select} FROM {Quote(schema)}.{Quote(table)}", connection))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var row = new Dictionary<string, string>();
                for (var i = 0; i < columns.Count; i++)
                {
                    if (!reader.IsDBNull(i))
                    {
                        row[columns[i].Name] = reader.GetString(i);
                    }
                }

                expected[KeyText(keyColumns.Select(k => row.TryGetValue(k, out var v) ? v : ""))] = row;
            }
        }

        var binary = columns.Where(c => IsBinary(c.Type)).Select(c => c.Name).ToHashSet();
        var tablePrefix = $"{_prefix}{schema}:{table}:";
        var seen = new HashSet<string>();
        var missing = 0;
        var different = 0;
        var extra = 0;
        var examples = new List<string>();
        await foreach (var key in _server.KeysAsync(pattern: EscapeGlob(tablePrefix) + "*", pageSize: 1000).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var pk = key.ToString()[tablePrefix.Length..];
            seen.Add(pk);
            if (!expected.TryGetValue(pk, out var row))
            {
                extra++;
                Note(examples, $"{schema}.{table} pk {pk}: in Redis but not in the source");
                continue;
            }

            var fields = await _redis.HashGetAllAsync(key).ConfigureAwait(false);
            var actual = fields.ToDictionary(f => f.Name.ToString(), f => binary.Contains(f.Name.ToString()) ? Convert.ToHexString((byte[])f.Value!) : f.Value.ToString());
            if (!SameRow(row, actual, out var why))
            {
                different++;
                Note(examples, $"{schema}.{table} pk {pk}: {why}");
            }
        }

        foreach (var pk in expected.Keys.Where(pk => !seen.Contains(pk)))
        {
            missing++;
            Note(examples, $"{schema}.{table} pk {pk}: in the source but not in Redis");
        }

        return new CheckResult(schema, table, expected.Count, seen.Count, missing, extra, different, examples);
    }

    private static bool SameRow(Dictionary<string, string> expected, Dictionary<string, string> actual, out string why)
    {
        foreach (var (column, value) in expected)
        {
            if (!actual.TryGetValue(column, out var got))
            {
                why = $"column {column} missing";
                return false;
            }

            if (!SameValue(value, got))
            {
                why = $"column {column} differs";
                return false;
            }
        }

        var extraColumn = actual.Keys.FirstOrDefault(c => !expected.ContainsKey(c));
        why = extraColumn is null ? "" : $"column {extraColumn} should be NULL";
        return extraColumn is null;
    }

    private static bool SameValue(string source, string sink)
    {
        if (source == sink)
        {
            return true;
        }

        // Floating-point text may differ in form only (MySQL's shortest form vs .NET's round-trip form).
        return double.TryParse(source, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var a)
            && double.TryParse(sink, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var b)
            && (a == b || Math.Abs(a - b) <= Math.Abs(a) * 1e-6);
    }

    private static string Render(string column, string dataType)
    {
        var c = Quote(column);
        return dataType switch
        {
            "datetime" => $"REPLACE(CAST({c} AS CHAR), ' ', 'T')",
            "timestamp" => $"CONCAT(REPLACE(CAST({c} AS CHAR), ' ', 'T'), 'Z')",
            "bit" => $"CAST({c} + 0 AS CHAR)",
            _ when IsBinary(dataType) => $"HEX({c})",
            _ => $"CAST({c} AS CHAR)",
        };
    }

    private static bool IsBinary(string dataType) =>
        dataType is "binary" or "varbinary" or "blob" or "tinyblob" or "mediumblob" or "longblob";

    private static string KeyText(IEnumerable<string> values) =>
        string.Join(':', values.Select(v => v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal)));

    private static string Quote(string identifier) => "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";

    private static string EscapeGlob(string text)
    {
        var sb = new StringBuilder();
        foreach (var ch in text)
        {
            if (ch is '*' or '?' or '[' or ']' or '\\')
            {
                sb.Append('\\');
            }

            sb.Append(ch);
        }

        return sb.ToString();
    }

    private static void Note(List<string> examples, string text)
    {
        if (examples.Count < 10)
        {
            examples.Add(text);
        }
    }
}

/// <summary>How one table compares: rows on each side and what differs.</summary>
public sealed record CheckResult(string Schema, string Table, int SourceRows, int SinkRows, int MissingInSink, int ExtraInSink, int Different, IReadOnlyList<string> Examples)
{
    public bool Matches => MissingInSink == 0 && ExtraInSink == 0 && Different == 0;

    public override string ToString() =>
        Matches
            ? $"{Schema}.{Table}: match ({SourceRows} rows)"
            : $"{Schema}.{Table}: MISMATCH source {SourceRows} rows, sink {SinkRows}; missing {MissingInSink}, extra {ExtraInSink}, different {Different}";
}
