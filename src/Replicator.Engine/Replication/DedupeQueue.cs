using Replicator.Jobs;
using Replicator.Model;

namespace Replicator.Engine.Replication;

/// <summary>
/// The pks a bucket has to apply. A pk that is already waiting is not queued again: in
/// <see cref="DedupeMode.Row"/> and <see cref="DedupeMode.Pk"/> modes its newest change replaces the
/// waiting one (keeping the columns a partial newer image leaves out, see <see cref="PartialImages"/>), and the replaced delivery rides along to be acknowledged when the newer one is
/// applied; in <see cref="DedupeMode.EveryChange"/> mode changes wait in order. At most one change
/// per pk is in flight, so the changes of a pk are applied in source order. A failed pk waits out
/// its backoff without holding back the other pks; after the last attempt it is parked.
/// </summary>
/// <remarks>
/// Mutable for speed, but pure: no I/O, no clock (callers pass <c>now</c>) and a seeded random for
/// jitter, so tests can replay any interleaving of deliveries, batches, failures and duplicates.
/// Rule for a parked pk: its change goes to the dead-letter store and is acknowledged once the
/// store has confirmed it (<see cref="FinishParked"/>); until then its deliveries are held, so a
/// redelivery is a duplicate, never "already finished". A later change of the same pk is applied
/// normally, after it, as if the parked one had been applied.
/// </remarks>
public sealed class DedupeQueue
{
    private readonly DedupeMode _mode;
    private readonly RetryPolicy _retry;
    private readonly Random _random;
    private readonly Dictionary<PkKey, PkState> _pks = new();
    private readonly LinkedList<PkState> _ready = new();
    private readonly PriorityQueue<PkState, DateTime> _backingOff = new();
    private readonly Dictionary<DeliveryId, PkState> _pending = new(BySequence.Instance);
    private readonly Dictionary<string, FinishedSet> _finished = new();

    // The finished set of the epoch asked for last: a delivery's changes, and a batch's, share one epoch.
    private string? _lastEpoch;
    private FinishedSet? _lastFinished;

    public DedupeQueue(DedupeMode mode, RetryPolicy retry, int seed = 0)
    {
        _mode = mode;
        _retry = retry;
        _random = new Random(seed);
    }

    /// <summary>Pks with a change waiting or in flight.</summary>
    public int PendingPks => _pks.Count;

    /// <summary>Deliveries held (waiting or in flight), superseded ones included.</summary>
    public int PendingDeliveries => _pending.Count;

    /// <summary>Changes that were never applied because a newer change of the same pk replaced them.</summary>
    public long Coalesced { get; private set; }

    /// <summary>Epochs whose finished deliveries are remembered.</summary>
    public int Epochs => _finished.Count;

    /// <summary>When the next pk's backoff ends, or null when no pk is backing off.</summary>
    public DateTime? NextRetryAt => _backingOff.TryPeek(out _, out var due) ? due : null;

    /// <summary>Adds a delivery. A delivery already held is ignored; one already finished is reported so it can be acknowledged again.</summary>
    public EnqueueResult Enqueue(Delivery delivery)
    {
        if (_pending.ContainsKey(delivery.Id))
        {
            return EnqueueResult.Duplicate;
        }

        if (FinishedOf(delivery.Id.Epoch, create: false) is { } done && done.Contains(delivery.Id.Sequence))
        {
            return EnqueueResult.AlreadyFinished;
        }

        // Pks are per table: one definition may follow several tables whose keys look alike.
        var key = KeyOf(delivery.Change);
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_pks, key, out _);
        var state = slot ??= new PkState(delivery.Change.Key, key);

        _pending[delivery.Id] = state;
        FinishedOf(delivery.Id.Epoch, create: true);
        var result = EnqueueResult.Queued;
        if (_mode == DedupeMode.EveryChange)
        {
            state.Queue.AddLast(new Waiting(delivery, [delivery.Id]));
        }
        else if (state.Queue.First is { } waiting)
        {
            // Coalesce: the newest change wins, the older one is acknowledged with it.
            var covered = waiting.Value.Covered;
            covered.Add(delivery.Id);
            var (latest, merge) = Newest(waiting.Value.Latest, waiting.Value.Merge, delivery, null);
            waiting.Value = waiting.Value with { Latest = latest, Merge = merge };

            Coalesced++;
            result = EnqueueResult.Coalesced;
        }
        else
        {
            state.Queue.AddLast(new Waiting(delivery, [delivery.Id]));
        }

        MakeReadyIfIdle(state);
        return result;
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> pks that are ready now (not in flight, not backing off),
    /// oldest first. A pk to be tried alone (see <see cref="RetryAlone"/>) gets a batch of its own.
    /// </summary>
    public IReadOnlyList<BatchEntry> TakeBatch(int max, DateTime now)
    {
        PromoteDueRetries(now);
        var batch = new List<BatchEntry>(Math.Min(max, _ready.Count));
        while (batch.Count < max && _ready.First is { } node)
        {
            var state = node.Value;
            if (state.Alone && batch.Count > 0)
            {
                break;
            }

            _ready.RemoveFirst();
            state.ReadyNode = null;
            var waiting = state.Queue.First!.Value;
            state.Queue.RemoveFirst();
            var entry = new BatchEntry(state.Key, waiting.Latest, waiting.Covered, state.Attempts + 1, state.FirstFailure, state.LastError);
            state.InFlight = entry;
            state.InFlightMerge = waiting.Merge;
            batch.Add(entry);
            if (state.Alone)
            {
                break;
            }
        }

        return batch;
    }

    /// <summary>
    /// The batch of an entry taken with <see cref="TakeBatch"/> failed as a whole (its job threw or
    /// ran out of time), which says nothing about this pk: it is tried again at once, in a batch of
    /// its own, without spending an attempt. So a row that fails every batch it is in spends only its
    /// own attempts (and is parked), and the other pks of its batch go through.
    /// </summary>
    public void RetryAlone(BatchEntry entry)
    {
        var state = InFlightState(entry);
        state.InFlight = null;
        state.Alone = true;
        Requeue(state, entry);
        MakeReadyIfIdle(state);
    }

    /// <summary>
    /// Records the outcome of an entry taken with <see cref="TakeBatch"/>. Returns the deliveries to
    /// acknowledge now or, when the pk ran out of attempts, the dead letter to persist (and nothing
    /// to acknowledge until the store confirms it).
    /// </summary>
    /// <param name="sinkDownHold">
    /// The sink counts as down (<see cref="SinkHealth"/>): a failure does not spend the pk's
    /// attempt and is never parked; the pk waits this long and is tried again.
    /// </param>
    public Completion Complete(BatchEntry entry, ApplyResult result, DateTime now, TimeSpan? sinkDownHold = null)
    {
        var state = InFlightState(entry);
        state.InFlight = null;
        if (result.Success || sinkDownHold is not null)
        {
            // Done, or held for an outage that explains the failure: no longer a suspect of its batch.
            state.Alone = false;
        }

        if (result.Success)
        {
            state.Attempts = 0;
            state.FirstFailure = null;
            state.LastError = null;
            state.InFlightMerge = null;
            return Finish(state, entry, result.Stale);
        }

        var error = result.Error ?? "the job reported a failure without a message";
        var failedAttempts = sinkDownHold is null ? entry.Attempt : entry.Attempt - 1;
        if (sinkDownHold is null && failedAttempts >= _retry.MaxAttempts)
        {
            // Parked, not finished: the deliveries stay held until the store has the letter.
            var letter = new DeadLetter(entry.Latest.Change, error, failedAttempts, entry.FirstFailure ?? now, now, entry.Covered);
            state.Attempts = 0;
            state.FirstFailure = null;
            state.LastError = null;
            if (_mode != DedupeMode.EveryChange && state.Queue.First is { } next)
            {
                // The next change is applied as if the parked one had been: it carries its columns.
                var (latest, merge) = Newest(entry.Latest, state.InFlightMerge, next.Value.Latest, next.Value.Merge);
                next.Value = next.Value with { Latest = latest, Merge = merge };
            }

            state.Alone = false;
            state.InFlightMerge = null;
            Release(state);
            return new Completion([], letter, RetryAt: null);
        }

        state.Attempts = failedAttempts;
        state.FirstFailure ??= now;
        state.LastError = error;
        Requeue(state, entry);
        var due = now + (sinkDownHold ?? _retry.Backoff(failedAttempts, _random.NextDouble()));
        state.RetryAt = due;
        _backingOff.Enqueue(state, due);
        return new Completion([], null, RetryAt: due);
    }

    private PkState InFlightState(BatchEntry entry)
    {
        if (!_pks.TryGetValue(KeyOf(entry.Latest.Change), out var state) || !ReferenceEquals(state.InFlight, entry))
        {
            throw new InvalidOperationException($"pk {entry.Key} has no such batch entry in flight.");
        }

        return state;
    }

    /// <summary>Puts a failed entry's change back to wait, first in its pk's line.</summary>
    private void Requeue(PkState state, BatchEntry entry)
    {
        if (_mode != DedupeMode.EveryChange && state.Queue.First is { } newer)
        {
            // A newer image is waiting: it supersedes the failed one, which rides along with it.
            var covered = new List<DeliveryId>(entry.Covered);
            covered.AddRange(newer.Value.Covered);
            var (latest, merge) = Newest(entry.Latest, state.InFlightMerge, newer.Value.Latest, newer.Value.Merge);
            newer.Value = newer.Value with { Latest = latest, Merge = merge, Covered = covered };
        }
        else
        {
            state.Queue.AddFirst(new Waiting(entry.Latest, new List<DeliveryId>(entry.Covered), state.InFlightMerge));
        }

        state.InFlightMerge = null;
    }

    /// <summary>The deliveries held (waiting or in flight), for handing back when the bucket stops.</summary>
    public IEnumerable<DeliveryId> HeldDeliveries => _pending.Keys;

    private FinishedSet? FinishedOf(string epoch, bool create)
    {
        if (_lastFinished is not null && epoch == _lastEpoch)
        {
            return _lastFinished;
        }

        if (!_finished.TryGetValue(epoch, out var done))
        {
            if (!create)
            {
                return null;
            }

            done = new FinishedSet();
            _finished[epoch] = done;
        }

        _lastEpoch = epoch;
        _lastFinished = done;
        return done;
    }

    /// <summary>Forgets finished deliveries of an epoch below <paramref name="sequence"/>: the capture has settled them.</summary>
    public void ForgetFinishedBelow(string epoch, long sequence)
    {
        if (_finished.TryGetValue(epoch, out var done))
        {
            done.ForgetBelow(sequence);
        }
    }

    /// <summary>
    /// Forgets the finished deliveries of <paramref name="epoch"/>: its sender moved on to a new
    /// incarnation (which re-sends what is unfinished) or is gone. Deliveries of it still held are
    /// applied as usual, but finishing them is no longer remembered.
    /// </summary>
    public void ForgetEpoch(string epoch)
    {
        _finished.Remove(epoch);
        _lastEpoch = null;
        _lastFinished = null;
    }

    /// <summary>
    /// The dead-letter store confirmed <paramref name="letter"/>: its deliveries are finished. Returns
    /// those to acknowledge now (none when it was confirmed before).
    /// </summary>
    public IReadOnlyList<DeliveryId> FinishParked(DeadLetter letter)
    {
        var finished = new List<DeliveryId>(letter.Covered.Count);
        foreach (var id in letter.Covered)
        {
            if (_pending.Remove(id))
            {
                FinishedOf(id.Epoch, create: false)?.Add(id.Sequence);
                finished.Add(id);
            }
        }

        return finished;
    }

    private Completion Finish(PkState state, BatchEntry entry, bool stale)
    {
        foreach (var id in entry.Covered)
        {
            _pending.Remove(id);
            FinishedOf(id.Epoch, create: false)?.Add(id.Sequence);
        }

        Release(state);
        return new Completion(entry.Covered, null, RetryAt: null, Stale: stale);
    }

    /// <summary>The pk's in-flight entry is done: forget the pk if nothing else waits for it, or make its next change ready.</summary>
    private void Release(PkState state)
    {
        if (state.Queue.Count == 0)
        {
            _pks.Remove(state.TableKey);
        }
        else
        {
            MakeReadyIfIdle(state);
        }
    }

    /// <summary>
    /// Of two deliveries of one pk (each with where its image came from, when coalesced), the one to
    /// apply: the newer by source version, with the columns a partial newer image leaves out taken
    /// from the older, version by version (<see cref="PartialImages"/>). In pk mode too: its job
    /// lays the change's columns over the row it reads, and a read that misses the older change's
    /// commit would otherwise lose what it set. A retried dead
    /// letter's image is old and fills nothing: the bucket reads such a row from the source instead.
    /// </summary>
    private (Delivery Latest, Coalesced? Merge) Newest(Delivery a, Coalesced? aMerge, Delivery b, Coalesced? bMerge)
    {
        var bIsNewer = b.Change.Version >= a.Change.Version;
        var (older, newer, newerMerge) = bIsNewer ? (a, b, bMerge) : (b, a, aMerge);
        if (_mode == DedupeMode.EveryChange || IsRetry(older.Id) || (newerMerge is null && (newer.Change.After is not { } after || !PartialImages.HasAbsent(after))))
        {
            // Nothing to merge: a delete, or a full image of its own, is newer than all the older one holds.
            return (newer, newerMerge);
        }

        var merged = PartialImages.Coalesce(aMerge ?? PartialImages.Of(a.Change), bMerge ?? PartialImages.Of(b.Change));
        return (ReferenceEquals(merged.Change, newer.Change) ? newer : newer with { Change = merged.Change }, merged);
    }

    /// <summary>True for a delivery of the dead-letter store's retry, not of a capture.</summary>
    public static bool IsRetry(DeliveryId id) => id.Epoch.StartsWith(DeadLetterStore.RetryEpochPrefix, StringComparison.Ordinal);

    private void MakeReadyIfIdle(PkState state)
    {
        if (state.InFlight is null && state.ReadyNode is null && state.RetryAt is null && state.Queue.Count > 0)
        {
            state.ReadyNode = _ready.AddLast(state);
        }
    }

    private void PromoteDueRetries(DateTime now)
    {
        while (_backingOff.TryPeek(out var state, out var due) && due <= now)
        {
            _backingOff.Dequeue();
            if (state.RetryAt == due)
            {
                state.RetryAt = null;
                MakeReadyIfIdle(state);
            }
        }
    }

    /// <summary>A pk's change waiting to be applied, the deliveries it answers, and (when coalesced from several) where its image's values came from.</summary>
    private sealed record Waiting(Delivery Latest, List<DeliveryId> Covered, Coalesced? Merge = null);

    /// <summary>Finished sequence numbers of one epoch; forgetting those below a watermark costs only what is forgotten.</summary>
    private sealed class FinishedSet
    {
        private readonly HashSet<long> _members = new();
        private readonly PriorityQueue<long, long> _byValue = new();

        public bool Contains(long sequence) => _members.Contains(sequence);

        public void Add(long sequence)
        {
            if (_members.Add(sequence))
            {
                _byValue.Enqueue(sequence, sequence);
            }
        }

        public void ForgetBelow(long sequence)
        {
            while (_byValue.TryPeek(out var lowest, out _) && lowest < sequence)
            {
                _byValue.Dequeue();
                _members.Remove(lowest);
            }
        }
    }

    private static PkKey KeyOf(RowChange change) => new(change.Schema, change.Table, change.Key);

    /// <summary>A pk of a table. Hashed by the key's cached hash alone: tables sharing key values only share buckets of the dictionary.</summary>
    private readonly record struct PkKey(string Schema, string Table, RowKey Key)
    {
        public bool Equals(PkKey other) => Key.Equals(other.Key) && Table == other.Table && Schema == other.Schema;

        public override int GetHashCode() => Key.GetHashCode();
    }

    /// <summary>Delivery ids hashed by sequence alone: one capture incarnation's sequences are distinct, and hashing the epoch text every time is most of the cost.</summary>
    private sealed class BySequence : IEqualityComparer<DeliveryId>
    {
        public static BySequence Instance { get; } = new();

        public bool Equals(DeliveryId x, DeliveryId y) => x.Sequence == y.Sequence && x.Epoch == y.Epoch;

        public int GetHashCode(DeliveryId id) => id.Sequence.GetHashCode();
    }

    private sealed class PkState(RowKey key, PkKey tableKey)
    {
        public RowKey Key { get; } = key;

        public PkKey TableKey { get; } = tableKey;

        public LinkedList<Waiting> Queue { get; } = new();

        public BatchEntry? InFlight { get; set; }

        /// <summary>Where the in-flight change's image came from, when it was coalesced from several.</summary>
        public Coalesced? InFlightMerge { get; set; }

        public LinkedListNode<PkState>? ReadyNode { get; set; }

        public DateTime? RetryAt { get; set; }

        public int Attempts { get; set; }

        public DateTime? FirstFailure { get; set; }

        public string? LastError { get; set; }

        /// <summary>Tried in a batch of its own: it was in a batch that failed as a whole, and has not succeeded since.</summary>
        public bool Alone { get; set; }
    }
}

public enum EnqueueResult
{
    Queued,
    Coalesced,
    Duplicate,
    AlreadyFinished,
}

/// <summary>
/// One pk's work in a batch: the change to apply (the newest one in row/pk modes), every delivery
/// it answers, and which attempt this is (1 for the first).
/// </summary>
public sealed record BatchEntry(RowKey Key, Delivery Latest, IReadOnlyList<DeliveryId> Covered, int Attempt, DateTime? FirstFailure, string? LastError);

/// <summary>
/// What a completed batch entry means: deliveries to acknowledge, a dead letter to persist (its
/// deliveries are acknowledged once the store confirms it, through <see cref="DedupeQueue.FinishParked"/>),
/// or when to retry.
/// </summary>
public sealed record Completion(IReadOnlyList<DeliveryId> Acknowledge, DeadLetter? DeadLetter, DateTime? RetryAt, bool Stale = false);

/// <summary>A change parked after its last attempt failed: the change, the last error, the attempts, and the deliveries it answers.</summary>
public sealed record DeadLetter(RowChange Change, string Error, int Attempts, DateTime FirstFailure, DateTime LastFailure, IReadOnlyList<DeliveryId> Covered);
