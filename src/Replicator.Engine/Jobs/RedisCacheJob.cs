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
    // KEYS[1] row hash, KEYS[2] version key.
    // ARGV[1] version, ARGV[2] mode: d(elete) r(eplace) m(erge), ARGV[3] tombstone ttl ms,
    // ARGV[4] number of field/value pairs that follow, then the pairs, then fields to remove (merge).
    private const string Script = """
        local current = redis.call('GET', KEYS[2])
        if current and current >= ARGV[1] then
          return 0
        end
        local mode = ARGV[2]
        if mode == 'd' then
          redis.call('DEL', KEYS[1])
          redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
          return 1
        end
        if mode == 'r' then
          redis.call('DEL', KEYS[1])
        end
        local pairs = tonumber(ARGV[4])
        if pairs > 0 then
          redis.call('HSET', KEYS[1], unpack(ARGV, 5, 4 + pairs * 2))
        end
        if #ARGV > 4 + pairs * 2 then
          redis.call('HDEL', KEYS[1], unpack(ARGV, 5 + pairs * 2))
        end
        redis.call('SET', KEYS[2], ARGV[1])
        return 1
        """;

    private readonly IDatabase _database;
    private readonly string _prefix;
    private readonly RedisValue _tombstoneMilliseconds;
    private readonly ReplicationMetrics _metrics;
    private readonly string _definition;
    private readonly ApplyLedger _ledger;
    private readonly SourceRowReader? _reader;

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
            ? batch.Select(item => Arguments(item.Change)).ToArray()
            : await CurrentRowArgumentsAsync(batch, cancellationToken).ConfigureAwait(false);
        var pending = new Task<RedisResult>[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var change = batch[i].Change;
            RedisKey[] keys =
            [
                RowKeyOf(_prefix, change.Schema, change.Table, change.Key),
                VersionKeyOf(_prefix, change.Schema, change.Table, change.Key),
            ];
            pending[i] = _database.ScriptEvaluateAsync(Script, keys, arguments[i]);
        }

        var results = new ApplyResult[batch.Count];
        for (var i = 0; i < pending.Length; i++)
        {
            try
            {
                var outcome = await pending[i].WaitAsync(cancellationToken).ConfigureAwait(false);
                if ((int)outcome == 1)
                {
                    results[i] = ApplyResult.Applied;
                    _ledger.Record(batch[i].Change, "redis", applied: true);
                }
                else
                {
                    results[i] = ApplyResult.Refused;
                    _metrics.StaleWritesRefused(_definition);
                    _ledger.Record(batch[i].Change, "redis", applied: false);
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException)
            {
                results[i] = ApplyResult.Failed($"redis: {e.GetType().Name}: {e.Message}");
            }
        }

        return results;
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
            var keys = group.Select(x => (IReadOnlyList<string>)x.item.Key.Values.Select(v => v.ToString()).ToList()).ToList();
            var rows = await _reader!.ReadAsync(schema, table, keys, cancellationToken).ConfigureAwait(false);
            var columns = await _reader.ColumnsAsync(schema, table, cancellationToken).ConfigureAwait(false);
            foreach (var (item, index) in group)
            {
                var version = item.Change.Version.ToString();
                if (!rows.TryGetValue(item.Key.Canonical, out var row))
                {
                    arguments[index] = [version, "d", _tombstoneMilliseconds, 0];
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
                args[2] = _tombstoneMilliseconds;
                args[3] = set.Count / 2;
                set.CopyTo(args, 4);
                arguments[index] = args;
            }
        }

        return arguments;
    }

    private RedisValue[] Arguments(RowChange change)
    {
        var version = change.Version.ToString();
        if (change.Action == ChangeAction.Delete)
        {
            return [version, "d", _tombstoneMilliseconds, 0];
        }

        var row = change.After!;
        var partial = false;
        var set = new List<RedisValue>(row.Count * 2);
        List<RedisValue>? remove = null;
        for (var i = 0; i < row.Count; i++)
        {
            var value = row.Values[i];
            if (value.IsAbsent)
            {
                partial = true;
                continue;
            }

            if (value.IsNull)
            {
                (remove ??= []).Add(row.Names[i]);
                continue;
            }

            set.Add(row.Names[i]);
            set.Add(value.Kind is ValueKind.Bytes or ValueKind.Geometry or ValueKind.Vector ? (RedisValue)value.AsBytes() : value.ToString());
        }

        var args = new RedisValue[4 + set.Count + (partial ? remove?.Count ?? 0 : 0)];
        args[0] = version;
        args[1] = partial ? "m" : "r";
        args[2] = _tombstoneMilliseconds;
        args[3] = set.Count / 2;
        set.CopyTo(args, 4);
        if (partial && remove is not null)
        {
            remove.CopyTo(args, 4 + set.Count);
        }

        return args;
    }

    public ValueTask DisposeAsync() => _reader?.DisposeAsync() ?? ValueTask.CompletedTask;
}
