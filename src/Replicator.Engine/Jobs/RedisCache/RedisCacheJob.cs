using Akka.Configuration;
using Replicator.Binlog.Columns;
using Replicator.Engine.Replication;
using Replicator.Engine.Schema;
using Replicator.Jobs;
using Replicator.Model;
using StackExchange.Redis;

namespace Replicator.Engine.Jobs.RedisCache;

/// <summary>
/// Keeps a Redis hash per row: <c>&lt;prefix&gt;&lt;schema&gt;:&lt;table&gt;:&lt;pk&gt;</c> holds the
/// row's columns (NULL columns are left out), and a delete removes it. Every write is a Lua
/// compare-and-set on the row's source version, kept at <c>&lt;prefix&gt;_v:&lt;schema&gt;:&lt;table&gt;:&lt;pk&gt;</c>:
/// a change no newer than the stored version is refused (a duplicate, a replay, or a stale apply
/// from a second copy of a bucket), and a delete leaves its version as a tombstone for
/// <c>tombstone-ttl</c> so a late write cannot bring the row back.
/// </summary>
/// <remarks>
/// <para>
/// A full row image replaces a hash the job wrote before (one it holds a version for); a partial
/// image (binlog_row_image=MINIMAL) updates only the columns it carries.
/// </para>
/// <para>
/// A key the job holds no version for is not its own: something else wrote it, or its version key
/// was evicted. The job then touches only the row's columns: it sets them and removes the NULL ones,
/// and a delete removes the columns rather than the key. A key of another type there is refused
/// (WRONGTYPE), so the change is retried and then dead-lettered, and nothing it does not own is lost.
/// </para>
/// <para>
/// The commands of a batch go out together, 128 rows per script call. A call reads the versions
/// of its rows in one MGET and stores the new ones in one MSET, and it sends each distinct set of
/// column names (a table's shape) once rather than with every row.
/// </para>
/// </remarks>
public sealed class RedisCacheJob : IReplicationJob
{
    private const int RowsPerCall = 128;

    /// <summary>How long pk mode waits before each read of a row: a commit becomes visible a moment after its binlog event.</summary>
    private static readonly TimeSpan[] VisibilityRereads = [TimeSpan.Zero, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(250)];

    // KEYS: the chunk's n row hashes, then their n version keys. ARGV[1] is the tombstone ttl in
    // ms, ARGV[2] the number of shapes; each shape is its count of columns to set, its count of
    // columns to remove, then those names. Then per row: its version, its op (shape * 4 + mode;
    // mode 0 replace, 1 merge, 2 delete; a delete's shape names the columns it may remove) and,
    // unless it is a delete, the values of its shape's columns to set. Returns per row 1 (written),
    // 0 (refused: the stored version is as new or newer) or the error's text. Each row's commands
    // run through pcall, so one row the sink refuses (WRONGTYPE) does not fail the others.
    // The script is the embedded batch.lua beside this file, read once.
    private static readonly string BatchScript = LoadScript();

    private readonly IDatabase _database;
    private readonly string _prefix;
    private readonly RedisValue _tombstoneMilliseconds;
    private readonly ReplicationMetrics _metrics;
    private readonly string _definition;
    private readonly SourceRowReader? _reader;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Schema, string Table), KeyPrefixes> _prefixes = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ShapeKey, Shape> _shapes = new();
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
        _tombstoneMilliseconds = (long)config.GetTimeSpan("tombstone-ttl", TimeSpan.FromHours(24)).TotalMilliseconds;
        _metrics = ReplicationMetrics.Get(context.System);
        _definition = context.Definition.Name;
        if (context.Definition.Mode == DedupeMode.Pk)
        {
            // meepo's model: changes carry only pks; the job reads each row as it is now.
            _reader = new SourceRowReader(MySqlDataSources.Get(context.System).For(SourceRowReader.ConnectionStringFor(context.Settings.Source(context.Definition.Source).ConnectionString)));
        }
    }

    /// <summary>The key of a row's hash.</summary>
    public static string RowKeyOf(string prefix, string schema, string table, RowKey key) => RedisCacheKeys.Row(prefix, schema, table, key.Canonical);

    /// <summary>The key holding a row's source version (and a delete's tombstone).</summary>
    public static string VersionKeyOf(string prefix, string schema, string table, RowKey key) => RedisCacheKeys.Version(prefix, schema, table, key.Canonical);

    public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken) =>
        _reader is null ? WriteAsync(batch, WritesOf(batch), cancellationToken) : ApplyCurrentRowsAsync(batch, cancellationToken);

    private async Task<IReadOnlyList<ApplyResult>> WriteAsync(IReadOnlyList<JobItem> batch, RowWrite[] writes, CancellationToken cancellationToken)
    {
        // One script call per chunk of rows: Lua's per-call cost, not the writes, bounds a
        // one-row-per-call job at a few tens of thousands of rows a second.
        var pending = new List<(int First, int Count, Task<RedisResult> Call)>();
        var shapes = new Dictionary<Shape, int>(ReferenceEqualityComparer.Instance);
        var shapeOrder = new List<Shape>();
        var shapeOf = new int[Math.Min(RowsPerCall, batch.Count)];
        for (var first = 0; first < batch.Count; first += RowsPerCall)
        {
            var count = Math.Min(RowsPerCall, batch.Count - first);
            var keys = new RedisKey[count * 2];
            shapes.Clear();
            shapeOrder.Clear();
            var length = 2;
            for (var i = 0; i < count; i++)
            {
                var write = writes[first + i];
                length += 2 + write.Values.Length;
                if (!shapes.TryGetValue(write.Shape, out shapeOf[i]))
                {
                    shapeOrder.Add(write.Shape);
                    shapes[write.Shape] = shapeOf[i] = shapeOrder.Count;
                    length += 2 + write.Shape.Set.Length + write.Shape.Remove.Length;
                }
            }

            var values = new RedisValue[length];
            values[0] = _tombstoneMilliseconds;
            values[1] = shapeOrder.Count;
            var at = 2;
            foreach (var shape in shapeOrder)
            {
                values[at++] = shape.Set.Length;
                values[at++] = shape.Remove.Length;
                shape.Set.CopyTo(values, at);
                at += shape.Set.Length;
                shape.Remove.CopyTo(values, at);
                at += shape.Remove.Length;
            }

            for (var i = 0; i < count; i++)
            {
                var change = batch[first + i].Change;
                var prefixes = PrefixesOf(change.Schema, change.Table);
                RedisKey canonical = change.Key.Canonical;
                keys[i] = canonical.Prepend(prefixes.Row);
                keys[count + i] = canonical.Prepend(prefixes.Version);
                var write = writes[first + i];
                values[at++] = write.Version;
                values[at++] = (shapeOf[i] * 4) + (int)write.Mode;
                write.Values.CopyTo(values, at);
                at += write.Values.Length;
            }

            pending.Add((first, count, _database.ScriptEvaluateAsync(BatchScript, keys, values)));
        }

        // A call that fails as a whole (no connection, a timeout, no rights, a script error) fails
        // the batch as a whole: its bucket tells an outage from one row's doing by trying the
        // batch's rows one by one (see ReplicatorEntity).
        await Task.WhenAll(pending.Select(p => p.Call)).WaitAsync(cancellationToken).ConfigureAwait(false);
        var results = new ApplyResult[batch.Count];
        foreach (var (first, count, call) in pending)
        {
            var outcomes = (RedisResult[]?)call.Result;
            for (var i = 0; i < count; i++)
            {
                var outcome = outcomes is not null && i < outcomes.Length ? outcomes[i] : null;
                if (outcome is null || outcome.Resp2Type == ResultType.Error || outcome.Resp2Type == ResultType.BulkString)
                {
                    // The row's own error: the sink refused this row (WRONGTYPE).
                    results[first + i] = ApplyResult.Failed($"redis: {outcome?.ToString() ?? "no result for this row"}");
                }
                else if ((int)outcome == 1)
                {
                    results[first + i] = ApplyResult.Applied;
                }
                else
                {
                    results[first + i] = ApplyResult.Refused;
                    _metrics.StaleWritesRefused(_definition);
                }
            }
        }

        return results;
    }

    private RowWrite[] WritesOf(IReadOnlyList<JobItem> batch)
    {
        var writes = new RowWrite[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            writes[i] = WriteOf(batch[i].Change);
        }

        return writes;
    }

    /// <summary>
    /// pk mode (meepo's model): reads the current rows of the batch's pks from the source and writes
    /// each, fenced by the version of the newest change the bucket holds for it. What is written at a
    /// version must be the row as that change left it, or a later state (whose own change follows
    /// and rewrites it), never an earlier one: the fence would keep that for ever. A read can see an
    /// earlier state, since MariaDB writes the binlog before the engine commit is visible, so the
    /// change is checked against the row read (see <see cref="CurrentRowWrite"/>). A change whose row
    /// is not there to read and that carries no full image is read again shortly, then failed, so
    /// its bucket retries it on its backoff.
    /// </summary>
    private async Task<IReadOnlyList<ApplyResult>> ApplyCurrentRowsAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        var writes = new RowWrite?[batch.Count];
        IReadOnlyList<int> unread = Enumerable.Range(0, batch.Count).ToList();
        foreach (var delay in VisibilityRereads)
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }

            await CurrentRowWritesAsync(batch, unread, writes, cancellationToken).ConfigureAwait(false);
            unread = unread.Where(i => writes[i] is null).ToList();
            if (unread.Count == 0)
            {
                return await WriteAsync(batch, writes.Select(w => w!.Value).ToArray(), cancellationToken).ConfigureAwait(false);
            }
        }

        var ready = Enumerable.Range(0, batch.Count).Where(i => writes[i] is not null).ToList();
        var written = await WriteAsync(ready.Select(i => batch[i]).ToList(), ready.Select(i => writes[i]!.Value).ToArray(), cancellationToken).ConfigureAwait(false);
        var results = new ApplyResult[batch.Count];
        for (var r = 0; r < ready.Count; r++)
        {
            results[ready[r]] = written[r];
        }

        foreach (var i in unread)
        {
            var change = batch[i].Change;
            results[i] = ApplyResult.Failed(
                $"pk mode: {change.Schema}.{change.Table} pk {change.Key} is not on the source, yet its {change.Action.Name()} at {change.Version} says it is and carries only part of the row "
                + "(binlog_row_image is not FULL): its commit is not visible yet (or a later delete is, whose change follows). Retrying.");
        }

        return results;
    }

    /// <summary>Reads the rows of the items at <paramref name="indices"/>, one query per table and key, and sets their writes (null: read again).</summary>
    private async Task CurrentRowWritesAsync(IReadOnlyList<JobItem> batch, IReadOnlyList<int> indices, RowWrite?[] writes, CancellationToken cancellationToken)
    {
        // Read by the key's own columns in its own order (the primary key's, or configured key-columns).
        foreach (var group in indices.Select(index => (item: batch[index], index)).GroupBy(x => (x.item.Change.Schema, x.item.Change.Table, string.Join('\u0001', x.item.Key.Names))))
        {
            var (schema, table, _) = group.Key;
            var keys = group.Select(x => (IReadOnlyList<ColumnValue>)x.item.Key.Values).ToList();

            // The newest change's columns tell a DDL since the table's columns were cached.
            var newest = group.MaxBy(x => x.item.Change.Version).item.Change;
            var read = await _reader!.ReadAsync(schema, table, group.First().item.Key.Names, keys, newest.Image?.Names, cancellationToken).ConfigureAwait(false);
            var imageColumns = new Dictionary<IReadOnlyList<string>, int[]>(ReferenceEqualityComparer.Instance);
            foreach (var (item, index) in group)
            {
                read.Rows.TryGetValue(item.Key.Canonical, out var row);
                writes[index] = CurrentRowWrite(item.Change, read.Columns, row, imageColumns);
            }
        }
    }

    /// <summary>
    /// One pk-mode write. A delete deletes, whatever the read shows: a row still there is one whose
    /// delete is not visible yet, or one a later change wrote again and will write again. A row read
    /// is written with the columns the change carries laid over it: the row as the change left it
    /// whether the read saw the state before the change (its commit not visible yet), the change's
    /// own, or a later one. A row that is not there is written as the change's image when the image
    /// is full; a partial image cannot tell the rest of the row, so the row is read again (null).
    /// A change without an image (a dead letter's retry by pk) is written as read.
    /// </summary>
    private RowWrite? CurrentRowWrite(RowChange change, SourceRowReader.TableColumns columns, SourceRowReader.Row? row, Dictionary<IReadOnlyList<string>, int[]> imageColumns)
    {
        RedisValue version = change.Version.ToString();
        var names = columns.Names;
        var image = change.Action == ChangeAction.Delete ? null : change.After;
        if (change.Action == ChangeAction.Delete || (row is null && image is null))
        {
            Span<ColumnRole> all = names.Count <= 256 ? stackalloc ColumnRole[names.Count] : new ColumnRole[names.Count];
            all.Fill(ColumnRole.Set);
            return new RowWrite(version, WriteMode.Delete, ShapeOf(names, all), []);
        }

        if (row is null)
        {
            return image!.Values.Any(v => v.IsAbsent || v.Kind == ValueKind.JsonDiff) ? null : WriteOf(change);
        }

        // Which of the image's columns each of the table's columns is (-1: not carried).
        int[]? carried = null;
        if (image is not null && !imageColumns.TryGetValue(image.Names, out carried))
        {
            carried = new int[names.Count];
            for (var c = 0; c < names.Count; c++)
            {
                carried[c] = -1;
                for (var i = 0; i < image.Names.Count; i++)
                {
                    if (string.Equals(image.Names[i], names[c], StringComparison.OrdinalIgnoreCase))
                    {
                        carried[c] = i;
                        break;
                    }
                }
            }

            imageColumns[image.Names] = carried;
        }

        Span<ColumnRole> roles = names.Count <= 256 ? stackalloc ColumnRole[names.Count] : new ColumnRole[names.Count];
        var values = new List<RedisValue>(names.Count);
        for (var c = 0; c < names.Count; c++)
        {
            var from = carried is null ? -1 : carried[c];
            var value = from < 0 ? ColumnValue.Absent : image!.Values[from];
            if (value.IsAbsent || value.Kind == ValueKind.JsonDiff)
            {
                var read = row.Values[c];
                roles[c] = read is null ? ColumnRole.Remove : ColumnRole.Set;
                if (read is not null)
                {
                    values.Add(read is byte[] bytes ? (RedisValue)bytes : (string)read);
                }
            }
            else
            {
                roles[c] = value.IsNull ? ColumnRole.Remove : ColumnRole.Set;
                if (!value.IsNull)
                {
                    values.Add(ValueOf(value));
                }
            }
        }

        return new RowWrite(version, WriteMode.Replace, ShapeOf(names, roles), [.. values]);
    }

    /// <summary>
    /// A change as a write: a full image replaces the row and removes its NULL columns, a partial
    /// one sets what it carries and removes the columns it says are now NULL; a delete may remove
    /// the columns of its before image.
    /// </summary>
    private RowWrite WriteOf(RowChange change)
    {
        RedisValue version = change.Version.ToString();
        var row = change.Image!;
        Span<ColumnRole> roles = row.Count <= 256 ? stackalloc ColumnRole[row.Count] : new ColumnRole[row.Count];
        if (change.Action == ChangeAction.Delete)
        {
            for (var i = 0; i < row.Count; i++)
            {
                roles[i] = row.Values[i].IsAbsent ? ColumnRole.Skip : ColumnRole.Set;
            }

            return new RowWrite(version, WriteMode.Delete, ShapeOf(row.Names, roles), []);
        }

        var partial = false;
        var set = 0;
        for (var i = 0; i < row.Count; i++)
        {
            var value = row.Values[i];
            partial |= value.IsAbsent;
            roles[i] = value.IsAbsent ? ColumnRole.Skip : value.IsNull ? ColumnRole.Remove : ColumnRole.Set;
            set += roles[i] == ColumnRole.Set ? 1 : 0;
        }

        var values = new RedisValue[set];
        set = 0;
        for (var i = 0; i < row.Count; i++)
        {
            if (roles[i] != ColumnRole.Set)
            {
                continue;
            }

            values[set++] = ValueOf(row.Values[i]);
        }

        return new RowWrite(version, partial ? WriteMode.Merge : WriteMode.Replace, ShapeOf(row.Names, roles), values);
    }

    /// <summary>A captured value as a hash field's value: integers as numbers, bytes as bytes, the rest as event-format text.</summary>
    private static RedisValue ValueOf(ColumnValue value) => value.Kind switch
    {
        ValueKind.Int64 => value.AsInt64(),
        ValueKind.UInt64 => value.AsUInt64(),
        ValueKind.Bytes or ValueKind.Geometry or ValueKind.Vector => value.AsBytes(),
        _ => value.ToString(),
    };

    /// <summary>
    /// The shape of a row: which of its table's columns it sets and which it removes. Shapes of
    /// tables up to 64 columns are kept per names list (one per table version) and pattern, so a
    /// script call sends each once; a wider table's rows each send their own.
    /// </summary>
    private Shape ShapeOf(IReadOnlyList<string> names, ReadOnlySpan<ColumnRole> roles)
    {
        if (names.Count > 64)
        {
            return BuildShape(names, roles);
        }

        ulong set = 0, remove = 0;
        for (var i = 0; i < roles.Length; i++)
        {
            set |= roles[i] == ColumnRole.Set ? 1UL << i : 0;
            remove |= roles[i] == ColumnRole.Remove ? 1UL << i : 0;
        }

        var key = new ShapeKey(names, set, remove);
        if (_shapes.TryGetValue(key, out var shape))
        {
            return shape;
        }

        if (_shapes.Count >= 4096)
        {
            // Many table versions or NULL patterns: start over rather than grow without bound.
            _shapes.Clear();
        }

        return _shapes[key] = BuildShape(names, roles);
    }

    private static Shape BuildShape(IReadOnlyList<string> names, ReadOnlySpan<ColumnRole> roles)
    {
        var set = new List<RedisValue>(roles.Length);
        var remove = new List<RedisValue>();
        for (var i = 0; i < roles.Length; i++)
        {
            if (roles[i] == ColumnRole.Set)
            {
                set.Add(names[i]);
            }
            else if (roles[i] == ColumnRole.Remove)
            {
                remove.Add(names[i]);
            }
        }

        return new Shape([.. set], [.. remove]);
    }

    private enum WriteMode
    {
        Replace = 0,
        Merge = 1,
        Delete = 2,
    }

    private enum ColumnRole : byte
    {
        Skip,
        Set,
        Remove,
    }

    /// <summary>One row's write: its version, what it does, its shape and the values of the shape's columns to set, in order.</summary>
    private readonly record struct RowWrite(RedisValue Version, WriteMode Mode, Shape Shape, RedisValue[] Values);

    /// <summary>Column names a row sets and removes; shared by the rows of one table version and NULL pattern.</summary>
    private sealed record Shape(RedisValue[] Set, RedisValue[] Remove);

    /// <summary>A shape's identity: the names list (compared by reference) and the columns set and removed.</summary>
    private readonly record struct ShapeKey(object Names, ulong Set, ulong Remove)
    {
        public bool Equals(ShapeKey other) => ReferenceEquals(Names, other.Names) && Set == other.Set && Remove == other.Remove;

        public override int GetHashCode() => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Names), Set, Remove);
    }

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
                System.Text.Encoding.UTF8.GetBytes(RedisCacheKeys.RowPrefix(_prefix, schema, table)),
                System.Text.Encoding.UTF8.GetBytes(RedisCacheKeys.VersionPrefix(_prefix, schema, table)));
            _prefixes[(schema, table)] = prefixes;
        }

        _lastPrefixes = prefixes;
        return prefixes;
    }

    private sealed record KeyPrefixes(string Schema, string Table, byte[] Row, byte[] Version);

    public ValueTask DisposeAsync() => _reader?.DisposeAsync() ?? ValueTask.CompletedTask;

    private static string LoadScript()
    {
        using var stream = typeof(RedisCacheJob).Assembly.GetManifestResourceStream("Replicator.Engine.Jobs.RedisCache.batch.lua")
            ?? throw new InvalidOperationException("The embedded resource Replicator.Engine.Jobs.RedisCache.batch.lua is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
