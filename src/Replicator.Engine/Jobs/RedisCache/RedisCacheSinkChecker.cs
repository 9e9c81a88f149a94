using System.Runtime.CompilerServices;
using Replicator.Engine.Schema;
using StackExchange.Redis;

namespace Replicator.Engine.Jobs.RedisCache;

/// <summary>
/// Compares tables of a source with what a redis-cache job wrote: every row must be a hash under
/// <c>&lt;prefix&gt;&lt;schema&gt;:&lt;table&gt;:&lt;pk&gt;</c> with the row's non-NULL columns as fields,
/// and no other hash may exist under the table's prefix. MySQL renders each value in the event
/// format's text (binary columns as hex on both sides), so the comparison is row by row and
/// value by value. The key layout is <see cref="RedisCacheKeys"/>.
/// </summary>
public sealed class RedisCacheSinkChecker : ISinkChecker
{
    private readonly string _sourceConnectionString;
    private readonly IDatabase _redis;
    private readonly IServer _server;
    private readonly string _prefix;
    private readonly IAsyncDisposable? _owned;

    /// <summary>A checker over a connection its caller owns.</summary>
    public RedisCacheSinkChecker(string sourceConnectionString, IConnectionMultiplexer redis, string keyPrefix)
        : this(sourceConnectionString, redis, keyPrefix, owned: null)
    {
    }

    private RedisCacheSinkChecker(string sourceConnectionString, IConnectionMultiplexer redis, string keyPrefix, IAsyncDisposable? owned)
    {
        _sourceConnectionString = sourceConnectionString;
        _redis = redis.GetDatabase();
        _server = redis.GetServers()[0];
        _prefix = keyPrefix;
        _owned = owned;
    }

    /// <summary>
    /// The registry's factory: connects to the job config's <c>redis</c> (failing fast, within 5 s,
    /// when it cannot: a check reads once, it does not wait for the sink) and compares under its <c>key-prefix</c>.
    /// </summary>
    public static async Task<ISinkChecker> CreateAsync(SinkCheckContext context, CancellationToken cancellationToken)
    {
        var options = ConfigurationOptions.Parse(context.Job.GetString("redis", ""));
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false);
        return new RedisCacheSinkChecker(context.SourceConnectionString, multiplexer, context.Job.GetString("key-prefix", ""), multiplexer);
    }

    public async IAsyncEnumerable<SinkCheckResult> CheckAsync(IReadOnlyList<SinkCheckTable> tables, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var table in tables)
        {
            yield return await CheckAsync(table.Schema, table.Table, cancellationToken, table.KeyColumns).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Compares one table, its rows keyed by <paramref name="keyColumns"/> (the source's key-columns for it) or by its primary key.</summary>
    public async Task<SinkCheckResult> CheckAsync(string schema, string table, CancellationToken cancellationToken = default, IReadOnlyList<string>? keyColumns = null)
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
        var tablePrefix = RedisCacheKeys.RowPrefix(_prefix, schema, table);
        var seen = new HashSet<string>();
        var missing = 0;
        var different = 0;
        var extra = 0;
        var examples = new List<SinkCheckResult.Difference>();
        await foreach (var key in _server.KeysAsync(pattern: RedisCacheKeys.RowPattern(_prefix, schema, table), pageSize: 1000).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var pk = RedisCacheKeys.PkOf(tablePrefix, key.ToString());
            seen.Add(pk);
            if (!expected.TryGetValue(pk, out var row))
            {
                extra++;
                Note(examples, new(schema, table, pk, "in Redis but not in the source"));
                continue;
            }

            var fields = await _redis.HashGetAllAsync(key).ConfigureAwait(false);
            var actual = fields.ToDictionary(f => f.Name.ToString(), f => binary.Contains(f.Name.ToString()) ? Convert.ToHexString((byte[])f.Value!) : f.Value.ToString());
            if (!SameRow(row, actual, out var why))
            {
                different++;
                Note(examples, new(schema, table, pk, why));
            }
        }

        foreach (var pk in expected.Keys.Where(pk => !seen.Contains(pk)))
        {
            missing++;
            Note(examples, new(schema, table, pk, "in the source but not in Redis"));
        }

        return new SinkCheckResult(schema, table, expected.Count, seen.Count, missing, extra, different, examples);
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

    private static void Note(List<SinkCheckResult.Difference> examples, SinkCheckResult.Difference difference)
    {
        if (examples.Count < SinkCheckResult.MaxDifferences)
        {
            examples.Add(difference);
        }
    }
}
