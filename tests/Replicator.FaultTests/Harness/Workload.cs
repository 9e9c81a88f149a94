using System.Globalization;
using System.Text;
using MySqlConnector;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// The seeded workload of FAULTS.md §4.1 on <c>src.t(id BIGINT PK, v BIGINT, payload VARCHAR(64), ver BIGINT NOT NULL)</c>:
/// inserts, updates of a zipf-like hot set (10% of the keys get half the updates), deletes,
/// re-inserts of deleted keys, pk changes (<c>UPDATE t SET id=id+1000000</c>) and transactions of
/// 1–50 row changes, with writes to the uncaptured <c>src.noise</c> mixed in. One connection writes,
/// so the generator knows the source's state; every committed transaction's changes go to the
/// ledger of acknowledged changes.
/// </summary>
/// <remarks>
/// <c>ver</c> only grows per pk, across deletes and re-inserts, so "the sink holds ver ≥ w" means
/// "the change that wrote w is reflected". A transaction whose commit failed (the source died, the
/// connection broke) has an unknown outcome: the generator reads the touched rows back once the
/// source answers again and takes what it finds as the truth (and as acknowledged).
/// A change that a later change of the same pk supersedes is invisible in the final state, lost or
/// not; so around each fault the pks written in the last seconds are frozen (never written again),
/// and the changes a fault puts at risk stay visible to the checker.
/// </remarks>
public sealed class Workload
{
    public const long PkChangeOffset = 1_000_000;

    private string _connectionString;
    private readonly Random _random;
    private readonly int _keySpace;
    private readonly int _hotKeys;
    private readonly Dictionary<long, long> _live = new();
    private readonly List<long> _liveList = [];
    private readonly Dictionary<long, int> _liveIndex = new();
    private readonly Dictionary<long, long> _lastVer = new();
    private readonly List<long> _deleted = [];
    private readonly HashSet<long> _frozen = [];
    private readonly Queue<(DateTime At, long[] Pks)> _recent = new();
    private readonly List<LedgerEntry> _ledger = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _stats = new();
    private MySqlConnection? _connection;
    private int? _session;
    private long _noiseKey;
    private volatile bool _stopRequested;

    public Workload(string connectionString, int seed, int keySpace)
    {
        _connectionString = connectionString;
        _random = new Random(seed);
        _keySpace = keySpace;
        _hotKeys = Math.Max(1, keySpace / 10);
        Seed = seed;
    }

    public int Seed { get; }

    /// <summary>Row changes to src.t in committed transactions.</summary>
    public long AckedChanges { get; private set; }

    public long AckedTransactions { get; private set; }

    /// <summary>Row changes of <see cref="RangeStatementAsync"/> (part of <see cref="AckedChanges"/>; the generator's pace leaves them out).</summary>
    public long RangeChanges { get; private set; }

    /// <summary>Transactions that failed (unknown outcome, resolved by reading the source back).</summary>
    public long FailedTransactions { get; private set; }

    public long NoiseWrites { get; private set; }

    /// <summary>Rows of the largest transaction committed.</summary>
    public int LargestTransaction { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>The acknowledged changes, in commit order.</summary>
    public IReadOnlyList<LedgerEntry> Ledger
    {
        get
        {
            lock (_stats)
            {
                return [.. _ledger];
            }
        }
    }

    public static string Schema => """
        CREATE DATABASE src CHARACTER SET utf8mb4;
        CREATE TABLE src.t (id BIGINT PRIMARY KEY, v BIGINT, payload VARCHAR(64), ver BIGINT NOT NULL);
        CREATE TABLE src.noise (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, note VARCHAR(32));
        CREATE TABLE src.probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6) NOT NULL);
        """;

    /// <summary>
    /// Writes until <paramref name="changes"/> row changes are acknowledged, at most
    /// <paramref name="changesPerSecond"/> per second, riding out source outages (it reconnects).
    /// </summary>
    public async Task RunAsync(long changes, double changesPerSecond, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var startCount = AckedChanges;
        var rangeStart = RangeChanges;
        while (AckedChanges - startCount < changes && !_stopRequested)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await _gate.WaitAsync(cancellationToken);
            try
            {
                var remaining = changes - (AckedChanges - startCount);
                if (remaining <= 0)
                {
                    break; // a big transaction made while the generator was paused may have finished the job
                }

                var size = _random.NextDouble() < 0.4 ? 1 : _random.Next(2, 51);
                size = (int)Math.Min(size, remaining);
                await TransactionAsync(size, cancellationToken);
            }
            finally
            {
                _gate.Release();
            }

            // F11's million-row statements are not the generator's load: they would hold it back for hours.
            var due = started + TimeSpan.FromSeconds((AckedChanges - startCount - (RangeChanges - rangeStart)) / changesPerSecond);
            var wait = due - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

    /// <summary>Makes <see cref="RunAsync"/> return after the transaction it is writing (for a run that lasts until its scenario is done).</summary>
    public void Stop() => _stopRequested = true;

    /// <summary>Freezes <paramref name="pks"/>: the generator never writes them (only <see cref="TouchAsync"/> does).</summary>
    public void Freeze(IEnumerable<long> pks)
    {
        lock (_stats)
        {
            foreach (var pk in pks)
            {
                _frozen.Add(pk);
                RemoveFromPicks(pk);
            }
        }
    }

    /// <summary>Writes to another server from now on (a promoted replica); the caller holds the generator paused.</summary>
    public async Task RetargetAsync(string connectionString)
    {
        _connectionString = connectionString;
        await DropConnectionAsync();
    }

    /// <summary>Holds the generator between transactions until the returned handle is disposed.</summary>
    public async Task<IDisposable> PauseAsync()
    {
        await _gate.WaitAsync();
        return new Releaser(_gate);
    }

    /// <summary>Inserts (or updates, if they exist) the given pks in one transaction.</summary>
    public async Task TouchAsync(IReadOnlyCollection<long> pks, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var ops = new List<Op>();
            foreach (var pk in pks)
            {
                ops.Add(_live.ContainsKey(pk) ? Update(pk) : Insert(pk));
            }

            await CommitAsync(ops, noise: 0, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// One big transaction (the caller holds the generator paused): first <paramref name="inserts"/>
    /// new rows in a range of their own (pks from <see cref="BigTransactionBase"/>, frozen: nothing
    /// writes them again, so a row lost inside the transaction stays visible), then an update of every
    /// other row (<c>UPDATE t SET v=v+1, ver=ver+1</c>). Returns the row changes it made.
    /// </summary>
    public async Task<int> BigTransactionAsync(int inserts, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var sql = $"""
            INSERT INTO t (id, v, payload, ver) SELECT {BigTransactionBase} + seq, seq, CONCAT('big-', seq), 1 FROM seq_1_to_{inserts};
            UPDATE t SET v = v + 1, ver = ver + 1 WHERE id < {BigTransactionBase};
            """;
        await using var command = new MySqlCommand(sql, connection, transaction) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var now = DateTime.UtcNow;
        lock (_stats)
        {
            var updated = 0;
            foreach (var pk in _live.Keys.Where(pk => pk < BigTransactionBase).ToList())
            {
                var ver = _live[pk] + 1;
                _live[pk] = ver;
                _lastVer[pk] = ver;
                _ledger.Add(new LedgerEntry(pk, ver, Deleted: false, now));
                updated++;
            }

            for (var i = 1; i <= inserts; i++)
            {
                var pk = BigTransactionBase + i;
                _frozen.Add(pk);
                _lastVer[pk] = 1;
                SetLive(pk, 1);
                _ledger.Add(new LedgerEntry(pk, 1, Deleted: false, now));
            }

            var rows = updated + inserts;
            AckedChanges += rows;
            AckedTransactions++;
            LargestTransaction = Math.Max(LargestTransaction, rows);
            return rows;
        }
    }

    /// <summary>
    /// F11's statements, each one transaction over <paramref name="rows"/> rows of their own range
    /// (pks <see cref="BigTransactionBase"/> + 1 … + rows, which the generator never picks):
    /// <see cref="RangeStatement.Insert"/> <c>INSERT … SELECT … FROM seq_1_to_N</c> at ver 1,
    /// <see cref="RangeStatement.Update"/> <c>UPDATE t SET v = v + 1, ver = ver + 1</c> of all of them,
    /// <see cref="RangeStatement.Delete"/> a <c>DELETE</c> of all of them. Every row's change goes to
    /// the ledger; the model is not kept for these rows (nothing else writes them). Returns the time the
    /// statement and its commit took.
    /// </summary>
    public async Task<TimeSpan> RangeStatementAsync(RangeStatement statement, int rows, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var sql = statement switch
            {
                RangeStatement.Insert => $"INSERT INTO t (id, v, payload, ver) SELECT {BigTransactionBase} + seq, seq, 'x', 1 FROM seq_1_to_{rows}",
                RangeStatement.Update => $"UPDATE t SET v = v + 1, ver = ver + 1 WHERE id > {BigTransactionBase} AND id <= {BigTransactionBase + rows}",
                _ => $"DELETE FROM t WHERE id > {BigTransactionBase} AND id <= {BigTransactionBase + rows}",
            };
            var started = DateTime.UtcNow;
            var connection = await ConnectAsync(cancellationToken);
            await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
            {
                await using var command = new MySqlCommand(sql, connection, transaction) { CommandTimeout = 600 };
                var affected = await command.ExecuteNonQueryAsync(cancellationToken);
                if (affected != rows)
                {
                    throw new InvalidOperationException($"{sql}: {affected} rows affected, not {rows}");
                }

                await transaction.CommitAsync(cancellationToken);
            }

            var took = DateTime.UtcNow - started;
            var now = DateTime.UtcNow;
            lock (_stats)
            {
                _ledger.EnsureCapacity(_ledger.Count + rows);
                for (var i = 1; i <= rows; i++)
                {
                    _ledger.Add(statement switch
                    {
                        RangeStatement.Insert => new LedgerEntry(BigTransactionBase + i, 1, Deleted: false, now),
                        RangeStatement.Update => new LedgerEntry(BigTransactionBase + i, 2, Deleted: false, now),
                        _ => new LedgerEntry(BigTransactionBase + i, 2, Deleted: true, now),
                    });
                }

                AckedChanges += rows;
                RangeChanges += rows;
                AckedTransactions++;
                LargestTransaction = Math.Max(LargestTransaction, rows);
            }

            return took;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Pks of <see cref="BigTransactionAsync"/> start above this; the generator's own pks stay far below.</summary>
    public const long BigTransactionBase = 900_000_000;

    /// <summary>
    /// Freezes the pks written by transactions committed in the last <paramref name="window"/>: the
    /// generator never writes them again. Returns how many pks were frozen.
    /// </summary>
    public int FreezeRecent(TimeSpan window)
    {
        lock (_stats)
        {
            var since = DateTime.UtcNow - window;
            var frozen = 0;
            foreach (var (at, pks) in _recent)
            {
                if (at < since)
                {
                    continue;
                }

                foreach (var pk in pks)
                {
                    if (_frozen.Add(pk))
                    {
                        frozen++;
                        RemoveFromPicks(pk);
                    }
                }
            }

            return frozen;
        }
    }

    /// <summary>Pks frozen so far.</summary>
    public int FrozenPks
    {
        get
        {
            lock (_stats)
            {
                return _frozen.Count;
            }
        }
    }

    /// <summary>The rows of src.t as the source holds them now: pk → ver.</summary>
    public IReadOnlyDictionary<long, long> Model
    {
        get
        {
            lock (_stats)
            {
                return new Dictionary<long, long>(_live);
            }
        }
    }

    private async Task TransactionAsync(int size, CancellationToken cancellationToken)
    {
        var ops = new List<Op>(size);
        for (var i = 0; i < size; i++)
        {
            ops.Add(NextOp());
        }

        var noise = _random.NextDouble() < 0.3 ? _random.Next(1, 4) : 0;
        await CommitAsync(ops, noise, cancellationToken);
    }

    private async Task CommitAsync(List<Op> ops, int noise, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder();
        foreach (var op in ops)
        {
            sql.Append(op.Sql).Append(";\n");
        }

        for (var i = 0; i < noise; i++)
        {
            var key = ++_noiseKey % 500;
            sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO noise (id, v, note) VALUES ({key}, 1, 'n{_noiseKey}') ON DUPLICATE KEY UPDATE v = v + 1, note = 'n{_noiseKey}';\n");
        }

        try
        {
            var connection = await ConnectAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var command = new MySqlCommand(sql.ToString(), connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LastError = e.Message;
            FailedTransactions++;
            // Taken when the connection opened: after a command timeout the connection is closed and no longer says.
            var session = _session;
            await DropConnectionAsync();
            await ResolveUnknownAsync(ops, session, cancellationToken);
            return;
        }

        var now = DateTime.UtcNow;
        lock (_stats)
        {
            foreach (var op in ops)
            {
                foreach (var entry in op.Effects)
                {
                    _ledger.Add(entry with { CommittedUtc = now });
                }
            }

            _recent.Enqueue((now, ops.SelectMany(o => o.Effects.Select(e => e.Pk)).ToArray()));
            while (_recent.Count > 0 && now - _recent.Peek().At > TimeSpan.FromSeconds(30))
            {
                _recent.Dequeue();
            }

            AckedChanges += ops.Count;
            AckedTransactions++;
            NoiseWrites += noise;
            LargestTransaction = Math.Max(LargestTransaction, ops.Count);
        }
    }

    /// <summary>
    /// After a failed transaction: end its server session if it still runs, then read the touched
    /// rows back (retrying until the source answers) and make them the model.
    /// </summary>
    /// <remarks>
    /// A client that gave up on a frozen or slow server (kill -STOP, a command timeout) leaves its
    /// session behind with the statements and COMMIT it already sent: once the server runs again it
    /// may commit them after our read, which would make the model wrong. KILL ends the session;
    /// once it is gone from the process list its transaction has committed or rolled back for good.
    /// </remarks>
    private async Task ResolveUnknownAsync(List<Op> ops, int? abandonedSession, CancellationToken cancellationToken)
    {
        var touched = ops.SelectMany(o => o.Effects.Select(e => e.Pk)).Distinct().ToList();
        if (touched.Count == 0)
        {
            return;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var connection = await ConnectAsync(cancellationToken);
                if (abandonedSession is { } session)
                {
                    await EndSessionAsync(connection, session, cancellationToken);
                    abandonedSession = null;
                }

                var found = new Dictionary<long, long>();
                await using (var command = new MySqlCommand($"SELECT id, ver FROM t WHERE id IN ({string.Join(',', touched)})", connection))
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        found[reader.GetInt64(0)] = reader.GetInt64(1);
                    }
                }

                var now = DateTime.UtcNow;
                lock (_stats)
                {
                    foreach (var pk in touched)
                    {
                        var wasLive = _live.TryGetValue(pk, out var modelVer);
                        if (found.TryGetValue(pk, out var ver))
                        {
                            _lastVer[pk] = Math.Max(_lastVer.GetValueOrDefault(pk), ver);
                            if (!wasLive || modelVer != ver)
                            {
                                // The transaction did commit: what it wrote is in the source, so it counts as acknowledged.
                                _ledger.Add(new LedgerEntry(pk, ver, Deleted: false, now));
                            }

                            SetLive(pk, ver);
                        }
                        else
                        {
                            // Gone from the source: whatever the transaction meant to do, the row is
                            // deleted now. The ops already took a deleted pk out of the model (Delete,
                            // PkChange), so wasLive alone misses a delete that did commit and leaves
                            // the pk's earlier writes looking lost although source and sink agree.
                            var deletedVer = ops.SelectMany(o => o.Effects).Where(e => e.Pk == pk).Select(e => e.Ver)
                                .Append(wasLive ? modelVer : 0).Max();
                            _ledger.Add(new LedgerEntry(pk, deletedVer, Deleted: true, now));
                            SetDeleted(pk);
                        }
                    }
                }

                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LastError = e.Message;
                await DropConnectionAsync();
                await Task.Delay(500, cancellationToken);
            }
        }
    }

    private Op NextOp()
    {
        var density = _liveList.Count / (double)_keySpace;
        if (_liveList.Count == 0)
        {
            return NewInsert();
        }

        var roll = _random.NextDouble();
        var insertShare = density < 0.5 ? 0.45 : 0.2;
        if (_liveList.Count == 0 || roll < insertShare)
        {
            return NewInsert();
        }

        roll = _random.NextDouble();
        if (roll < 0.65)
        {
            return Update(PickForUpdate());
        }

        if (roll < 0.83)
        {
            return Delete(_liveList[_random.Next(_liveList.Count)]);
        }

        if (roll < 0.93 && _deleted.Count > 0)
        {
            // Re-insert a deleted key: a late write of its old life must never bring the old row back.
            var index = _random.Next(_deleted.Count);
            var pk = _deleted[index];
            if (!_live.ContainsKey(pk) && !_frozen.Contains(pk))
            {
                return Insert(pk);
            }
        }

        for (var attempt = 0; attempt < 10; attempt++)
        {
            var pk = _liveList[_random.Next(_liveList.Count)];
            if (!_live.ContainsKey(pk + PkChangeOffset) && !_frozen.Contains(pk + PkChangeOffset))
            {
                return PkChange(pk);
            }
        }

        return Update(PickForUpdate());
    }

    private long PickForUpdate()
    {
        if (_random.NextDouble() < 0.5)
        {
            for (var attempt = 0; attempt < 8; attempt++)
            {
                var hot = 1 + _random.Next(_hotKeys);
                if (_live.ContainsKey(hot) && !_frozen.Contains(hot))
                {
                    return hot;
                }
            }
        }

        return _liveList[_random.Next(_liveList.Count)];
    }

    private Op NewInsert()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var pk = 1 + _random.Next(_keySpace);
            if (!_live.ContainsKey(pk) && !_frozen.Contains(pk))
            {
                return Insert(pk);
            }
        }

        return Update(_liveList[_random.Next(_liveList.Count)]);
    }

    private Op Insert(long pk)
    {
        var ver = NextVer(pk);
        var v = _random.NextInt64(0, 1_000_000_000);
        var payload = Payload();
        SetLive(pk, ver);
        return new Op($"INSERT INTO t (id, v, payload, ver) VALUES ({pk}, {v}, '{payload}', {ver})", [new LedgerEntry(pk, ver, false, default)]);
    }

    private Op Update(long pk)
    {
        var ver = NextVer(pk);
        var v = _random.NextInt64(0, 1_000_000_000);
        var payload = Payload();
        SetLive(pk, ver);
        return new Op($"UPDATE t SET v = {v}, payload = '{payload}', ver = {ver} WHERE id = {pk}", [new LedgerEntry(pk, ver, false, default)]);
    }

    private Op Delete(long pk)
    {
        var ver = _live[pk];
        SetDeleted(pk);
        return new Op($"DELETE FROM t WHERE id = {pk}", [new LedgerEntry(pk, ver, true, default)]);
    }

    private Op PkChange(long pk)
    {
        var target = pk + PkChangeOffset;
        var oldVer = _live[pk];
        var ver = Math.Max(NextVer(target), oldVer + 1);
        _lastVer[target] = ver;
        SetDeleted(pk);
        SetLive(target, ver);
        return new Op(
            $"UPDATE t SET id = id + {PkChangeOffset}, ver = {ver} WHERE id = {pk}",
            [new LedgerEntry(pk, oldVer, true, default), new LedgerEntry(target, ver, false, default)]);
    }

    private long NextVer(long pk)
    {
        var ver = _lastVer.GetValueOrDefault(pk) + 1;
        _lastVer[pk] = ver;
        return ver;
    }

    private void SetLive(long pk, long ver)
    {
        lock (_stats)
        {
            if (!_live.ContainsKey(pk) && !_frozen.Contains(pk))
            {
                _liveIndex[pk] = _liveList.Count;
                _liveList.Add(pk);
            }

            _live[pk] = ver;
        }
    }

    private void SetDeleted(long pk)
    {
        lock (_stats)
        {
            if (!_live.Remove(pk))
            {
                return;
            }

            RemoveFromPicks(pk);
            if (pk < PkChangeOffset && !_frozen.Contains(pk))
            {
                _deleted.Add(pk);
                if (_deleted.Count > 2000)
                {
                    _deleted.RemoveAt(0);
                }
            }
        }
    }

    private void RemoveFromPicks(long pk)
    {
        if (!_liveIndex.Remove(pk, out var index))
        {
            return;
        }

        var last = _liveList[^1];
        _liveList[index] = last;
        _liveList.RemoveAt(_liveList.Count - 1);
        if (last != pk)
        {
            _liveIndex[last] = index;
        }
    }

    private string Payload()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        var length = _random.Next(8, 65);
        return string.Create(length, _random, (span, random) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[random.Next(alphabet.Length)];
            }
        });
    }

    /// <summary>KILLs a session of ours and waits until the server no longer lists it.</summary>
    private static async Task EndSessionAsync(MySqlConnection connection, int session, CancellationToken cancellationToken)
    {
        try
        {
            await using var kill = new MySqlCommand($"KILL {session}", connection);
            await kill.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.NoSuchThread)
        {
            // Already gone.
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            await using var count = new MySqlCommand($"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {session}", connection);
            if (Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"session {session} of a failed transaction still runs 60 s after KILL");
    }

    private async Task<MySqlConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { State: System.Data.ConnectionState.Open })
        {
            return _connection;
        }

        await DropConnectionAsync();
        var builder = new MySqlConnectionStringBuilder(_connectionString) { Database = "src", ConnectionTimeout = 5, DefaultCommandTimeout = 30 };
        var connection = new MySqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        _connection = connection;
        _session = connection.ServerThread;
        return connection;
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is not null)
        {
            try
            {
                await _connection.DisposeAsync();
            }
            catch (Exception e) when (e is MySqlException or IOException)
            {
            }

            _connection = null;
            _session = null;
        }
    }

    private sealed record Op(string Sql, LedgerEntry[] Effects);

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
