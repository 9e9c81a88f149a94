using Akka.Configuration;
using Replicator.Binlog.Columns;
using Replicator.Engine.Model;
using Replicator.Engine.Replication;
using Replicator.Engine.Schema;
using StackExchange.Redis;

namespace Replicator.Engine.Jobs;

/// <summary>
/// Keeps a Redis hash per row: <c>&lt;prefix&gt;&lt;schema&gt;:&lt;table&gt;:&lt;pk&gt;</c> holds the
/// row's columns (NULL columns are left out), and a delete removes it. Every write is a Lua
/// compare-and-set on the row's source version, kept at <c>&lt;prefix&gt;_v:&lt;schema&gt;:&lt;table&gt;:&lt;pk&gt;</c>:
/// a change no newer than the stored version is refused (a duplicate, a replay, or a stale apply
/// from a second copy of a bucket), and a delete leaves its version as a tombstone for
/// <c>tombstone-ttl</c> so a late write cannot bring the row back.
/// </summary>
/// <remarks>
/// A full row image replaces the hash; a partial image (binlog_row_image=MINIMAL) updates only the
/// columns it carries. The commands of a batch are sent together and awaited together.
/// </remarks>
public sealed class RedisCacheJob : IReplicationJob
{
    private const int RowsPerCall = 128;

    // For each row: KEYS[2i-1] the row's hash, KEYS[2i] its version key. ARGV[1] is the tombstone
    // ttl in ms, then per row: version, mode (d(elete), r(eplace), m(erge)), number of field/value
    // pairs, number of fields to remove, the pairs, the fields. Returns per row 1 (written),
    // 0 (refused: the stored version is as new or newer) or the error's text. Each row's commands
    // run through pcall, so one row the sink refuses (WRONGTYPE) does not fail the others.
    private const string BatchScript = """
        local ttl = ARGV[1]
        local a = 2
        local out = {}
        for k = 1, #KEYS, 2 do
          local version, mode = ARGV[a], ARGV[a + 1]
          local pairs, removes = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
          local first = a + 4
          a = first + pairs * 2 + removes
          local row, ver = KEYS[k], KEYS[k + 1]
          local current = redis.pcall('GET', ver)
          if type(current) == 'table' and current.err then
            out[#out + 1] = current.err
          elseif current and current >= version then
            out[#out + 1] = 0
          else
            local r
            if mode == 'd' then
              r = redis.pcall('DEL', row)
              if not (type(r) == 'table' and r.err) then r = redis.pcall('SET', ver, version, 'PX', ttl) end
            else
              if mode == 'r' then r = redis.pcall('DEL', row) end
              if pairs > 0 and not (type(r) == 'table' and r.err) then r = redis.pcall('HSET', row, unpack(ARGV, first, first + pairs * 2 - 1)) end
              if removes > 0 and not (type(r) == 'table' and r.err) then r = redis.pcall('HDEL', row, unpack(ARGV, first + pairs * 2, first + pairs * 2 + removes - 1)) end
              if not (type(r) == 'table' and r.err) then r = redis.pcall('SET', ver, version) end
            end
            if type(r) == 'table' and r.err then
              out[#out + 1] = r.err
            else
              out[#out + 1] = 1
            end
          end
        end
        return out
        """;

    private readonly IDatabase _database;
    private readonly string _prefix;
    private readonly RedisValue _tombstoneMilliseconds;
    private readonly ReplicationMetrics _metrics;
    private readonly string _definition;
    private readonly ApplyLedger _ledger;
    private readonly SourceRowReader? _reader;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Schema, string Table), KeyPrefixes> _prefixes = new();
    private KeyPrefixes? _lastPrefixes;

    public RedisCacheJob(JobContext context)
    {
        var config = context.Definition.Job.Config;
        var redis = config.GetString("redis", "");
        if (string.IsNullOrWhiteSpace(redis))
        {
            throw new ConfigurationException($"{context.Definition.Job.Path}.redis is required for a redis-cache job.");
        }

        _database = RedisConnections.Get(context.System).Connect(redis).GetDatabase();
        _prefix = config.GetString("key-prefix", "");
        _tombstoneMilliseconds = (long)config.GetTimeSpan("tombstone-ttl", TimeSpan.FromHours(1)).TotalMilliseconds;
        _metrics = ReplicationMetrics.Get(context.System);
        _definition = context.Definition.Name;
        _ledger = ApplyLedger.Get(context.System);
        if (context.Definition.Mode == DedupeMode.Pk)
        {
            // meepo's model: changes carry only pks; the job reads each row as it is now.
            _reader = new SourceRowReader(context.Settings.Source(context.Definition.Source).ConnectionString);
        }
    }

    /// <summary>The key of a row's hash.</summary>
    public static string RowKeyOf(string prefix, string schema, string table, RowKey key) => $"{prefix}{schema}:{table}:{key.Canonical}";

    /// <summary>The key holding a row's source version (and a delete's tombstone).</summary>
    public static string VersionKeyOf(string prefix, string schema, string table, RowKey key) => $"{prefix}_v:{schema}:{table}:{key.Canonical}";

    public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        var arguments = _reader is null
            ? ArgumentsOf(batch)
            : await CurrentRowArgumentsAsync(batch, cancellationToken).ConfigureAwait(false);

        // One script call per chunk of rows: Lua's per-call cost, not the writes, bounds a
        // one-row-per-call job at a few tens of thousands of rows a second.
        var pending = new List<(int First, int Count, Task<RedisResult> Call)>();
        for (var first = 0; first < batch.Count; first += RowsPerCall)
        {
            var count = Math.Min(RowsPerCall, batch.Count - first);
            var keys = new RedisKey[count * 2];
            var length = 1;
            for (var i = 0; i < count; i++)
            {
                length += arguments[first + i].Length;
            }

            var values = new RedisValue[length];
            values[0] = _tombstoneMilliseconds;
            var at = 1;
            for (var i = 0; i < count; i++)
            {
                var change = batch[first + i].Change;
                var prefixes = PrefixesOf(change.Schema, change.Table);
                RedisKey canonical = change.Key.Canonical;
                keys[2 * i] = canonical.Prepend(prefixes.Row);
                keys[(2 * i) + 1] = canonical.Prepend(prefixes.Version);
                var row = arguments[first + i];
                row.CopyTo(values, at);
                at += row.Length;
            }

            pending.Add((first, count, _database.ScriptEvaluateAsync(BatchScript, keys, values)));
        }

        var results = new ApplyResult[batch.Count];
        foreach (var (first, count, call) in pending)
        {
            RedisResult[]? outcomes = null;
            string? failure = null;
            try
            {
                outcomes = (RedisResult[]?)await call.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException)
            {
                failure = $"redis: {e.GetType().Name}: {e.Message}";
            }

            for (var i = 0; i < count; i++)
            {
                var item = batch[first + i];
                var outcome = outcomes is not null && i < outcomes.Length ? outcomes[i] : null;
                if (outcome is null || outcome.Resp2Type == ResultType.Error || outcome.Resp2Type == ResultType.BulkString)
                {
                    results[first + i] = ApplyResult.Failed(failure ?? $"redis: {outcome?.ToString() ?? "no result for this row"}");
                }
                else if ((int)outcome == 1)
                {
                    results[first + i] = ApplyResult.Applied;
                    _ledger.Record(item.Change, "redis", applied: true);
                }
                else
                {
                    results[first + i] = ApplyResult.Refused;
                    _metrics.StaleWritesRefused(_definition);
                    _ledger.Record(item.Change, "redis", applied: false);
                }
            }
        }

        return results;
    }

    private static RedisValue[][] ArgumentsOf(IReadOnlyList<JobItem> batch)
    {
        var arguments = new RedisValue[batch.Count][];
        for (var i = 0; i < batch.Count; i++)
        {
            arguments[i] = Arguments(batch[i].Change);
        }

        return arguments;
    }

    /// <summary>
    /// pk mode: reads the current rows of the batch's pks, one query per table, and writes each as
    /// it is now (a row that is gone is deleted), fenced by the version of the newest change the
    /// bucket holds for it.
    /// </summary>
    private async Task<RedisValue[][]> CurrentRowArgumentsAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        var arguments = new RedisValue[batch.Count][];
        foreach (var group in batch.Select((item, index) => (item, index)).GroupBy(x => (x.item.Change.Schema, x.item.Change.Table)))
        {
            var (schema, table) = group.Key;
            var keys = group.Select(x => (IReadOnlyList<ColumnValue>)x.item.Key.Values).ToList();
            var rows = await _reader!.ReadAsync(schema, table, keys, cancellationToken).ConfigureAwait(false);
            var columns = await _reader.ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
            foreach (var (item, index) in group)
            {
                var version = item.Change.Version.ToString();
                if (!rows.TryGetValue(item.Key.Canonical, out var row))
                {
                    arguments[index] = DeleteArguments(version);
                    continue;
                }

                var set = new List<RedisValue>(columns.Names.Count * 2);
                for (var c = 0; c < columns.Names.Count; c++)
                {
                    if (row.Values[c] is { } value)
                    {
                        set.Add(columns.Names[c]);
                        set.Add(value is byte[] bytes ? (RedisValue)bytes : (string)value);
                    }
                }

                var args = new RedisValue[4 + set.Count];
                args[0] = version;
                args[1] = "r";
                args[2] = set.Count / 2;
                args[3] = 0;
                set.CopyTo(args, 4);
                arguments[index] = args;
            }
        }

        return arguments;
    }

    /// <summary>One row's script arguments: version, mode, pair count, removal count, the pairs, the fields to remove.</summary>
    private static RedisValue[] Arguments(RowChange change)
    {
        var version = change.Version.ToString();
        if (change.Action == ChangeAction.Delete)
        {
            return DeleteArguments(version);
        }

        var row = change.After!;
        var partial = false;
        int pairs = 0, removes = 0;
        for (var i = 0; i < row.Count; i++)
        {
            var value = row.Values[i];
            if (value.IsAbsent)
            {
                partial = true;
            }
            else if (value.IsNull)
            {
                removes++;
            }
            else
            {
                pairs++;
            }
        }

        // A full image replaces the hash (its null columns are simply not there); a partial one
        // sets what it carries and removes the columns it says are now null.
        removes = partial ? removes : 0;
        var args = new RedisValue[4 + (pairs * 2) + removes];
        args[0] = version;
        args[1] = partial ? "m" : "r";
        args[2] = pairs;
        args[3] = removes;
        int set = 4, remove = 4 + (pairs * 2);
        for (var i = 0; i < row.Count; i++)
        {
            var value = row.Values[i];
            if (value.IsAbsent)
            {
                continue;
            }

            if (value.IsNull)
            {
                if (partial)
                {
                    args[remove++] = row.Names[i];
                }

                continue;
            }

            args[set++] = row.Names[i];
            args[set++] = value.Kind switch
            {
                ValueKind.Int64 => value.AsInt64(),
                ValueKind.UInt64 => value.AsUInt64(),
                ValueKind.Bytes or ValueKind.Geometry or ValueKind.Vector => value.AsBytes(),
                _ => value.ToString(),
            };
        }

        return args;
    }

    private static RedisValue[] DeleteArguments(string version) => [version, "d", 0, 0];

    /// <summary>The key prefixes of a table's row hashes and version keys, encoded once per table.</summary>
    private KeyPrefixes PrefixesOf(string schema, string table)
    {
        var last = _lastPrefixes;
        if (last is not null && ReferenceEquals(last.Schema, schema) && ReferenceEquals(last.Table, table))
        {
            return last;
        }

        if (!_prefixes.TryGetValue((schema, table), out var prefixes))
        {
            prefixes = new KeyPrefixes(
                schema,
                table,
                System.Text.Encoding.UTF8.GetBytes($"{_prefix}{schema}:{table}:"),
                System.Text.Encoding.UTF8.GetBytes($"{_prefix}_v:{schema}:{table}:"));
            _prefixes[(schema, table)] = prefixes;
        }

        _lastPrefixes = prefixes;
        return prefixes;
    }

    private sealed record KeyPrefixes(string Schema, string Table, byte[] Row, byte[] Version);

    public ValueTask DisposeAsync() => _reader?.DisposeAsync() ?? ValueTask.CompletedTask;
}
