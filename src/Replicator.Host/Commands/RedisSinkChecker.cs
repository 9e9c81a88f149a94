using System.Text;
using Replicator.Engine.Schema;
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

    /// <summary>Compares one table, its rows keyed by <paramref name="keyColumns"/> (the source's key-columns for it) or by its primary key.</summary>
    public async Task<CheckResult> CheckAsync(string schema, string table, CancellationToken cancellationToken = default, IReadOnlyList<string>? keyColumns = null)
    {
        await using var source = new SourceRowReader(_sourceConnectionString, maxConnections: 2);
        var columns = await source.ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
        if (columns.Key.Count == 0 && keyColumns is not { Count: > 0 })
        {
            throw new ArgumentException($"Table {schema}.{table} has no primary key to compare by.");
        }

        var expected = new Dictionary<string, Dictionary<string, string>>();
        foreach (var (pk, row) in await source.ReadAllAsync(schema, table, keyColumns, cancellationToken).ConfigureAwait(false))
        {
            var fields = new Dictionary<string, string>();
            for (var i = 0; i < columns.Names.Count; i++)
            {
                if (row.Values[i] is { } value)
                {
                    fields[columns.Names[i]] = value is byte[] bytes ? Convert.ToHexString(bytes) : (string)value;
                }
            }

            expected[pk] = fields;
        }

        var binary = columns.Names.Where((_, i) => columns.IsBinary(i)).ToHashSet();
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
