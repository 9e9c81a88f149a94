using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Replicator.Model;

namespace Replicator.Engine.Replication;

/// <summary>
/// The persisted dead-letter store of one definition (a cluster singleton): pks whose change ran out
/// of attempts, with the change, the last error and the attempts. Operators list, retry and purge it;
/// a bucket acknowledges a parked change to the capture only after the store persisted it.
/// In <see cref="DedupeMode.Row"/> and <see cref="DedupeMode.Pk"/> modes the newest entry per pk is
/// kept (a newer change supersedes an older one, as in the bucket); in
/// <see cref="DedupeMode.EveryChange"/> mode every parked change is kept, one entry per pk and version.
/// Each letter is cut to what one message carries (<see cref="DeadLetterBounds"/>), and the store is
/// listed in pages (<see cref="ListDeadLetterPage"/>), so neither a letter nor a listing can exceed a
/// remoting frame.
/// </summary>
/// <remarks>
/// Each stored letter gets the next park sequence, counted by the store as it applies its events
/// (so recovery gives every entry the same one again). A retried letter leaves the store when its
/// bucket has finished it, unless it was parked again meanwhile: that is decided by the park
/// sequence, never by comparing the bucket's clock with the store's.
/// </remarks>
public sealed class DeadLetterStore : ReceivePersistentActor
{
    /// <summary>The epochs of the store's retries begin with this, so a bucket knows a retried letter from a captured change.</summary>
    public const string RetryEpochPrefix = "dead-letters-";

    private const int SnapshotEvery = 100;

    private readonly string _definition;
    private readonly IActorRef _region;
    private readonly DedupeMode _mode;
    private readonly DeadLetterLimits _limits;
    private readonly Dictionary<EntryKey, StoredDeadLetter> _entries = new();
    private readonly SortedDictionary<long, EntryKey> _keyBySequence = new();
    private readonly Dictionary<long, long> _retrying = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _parkSequence;
    private string _retryEpoch = "";
    private long _retrySequence;

    public DeadLetterStore(string definition, IActorRef region, DedupeMode mode, DeadLetterLimits? limits = null)
    {
        _limits = limits ?? DeadLetterLimits.Default;
        _definition = definition;
        _region = region;
        _mode = mode;
        PersistenceId = "dead-letters-" + definition;

        Recover<DeadLetterParked>(Apply);
        Recover<DeadLettersPurged>(_ => Clear());
        Recover<DeadLetterResolved>(Apply);
        Recover<DeadLetterCleared>(Apply);
        Recover<SnapshotOffer>(offer => Restore(offer.Snapshot));

        // A letter from a bucket is cut to size already; one from an older node may not be.
        Command<DeadLetterParked>(parked => Persist(DeadLetterBounds.Fit(parked, _limits.MaxLetterBytes), stored =>
        {
            Apply(stored);
            Configuration.CrashPoints.Get(Context.System).Reached(Configuration.CrashPoint.AfterDeadLetter);
            Sender.Tell(DeadLetterAccepted.Instance);
            SnapshotIfDue();
        }));
        Command<ListDeadLetterPage>(ask => Sender.Tell(Page(ask.Offset, ask.Limit)));
        Command<ListDeadLetters>(_ => Sender.Tell(new DeadLetterStoreSnapshot(Page(0, ListDeadLetterPage.DefaultLimit).Entries)));
        Command<PurgeDeadLetters>(_ =>
        {
            var purged = new DeadLettersPurged(_entries.Count);
            Persist(purged, done =>
            {
                Clear();
                _log.Info("Dead letters of {0} purged: {1} entries.", _definition, done.Count);
                Sender.Tell(done);
                SnapshotIfDue();
            });
        });
        Command<RetryDeadLetters>(_ => Retry());
        Command<ChangesFinished>(HandleFinished);
        Command<SaveSnapshotSuccess>(success => DeleteMessages(success.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(failure => _log.Warning("Snapshot of dead letters of {0} failed: {1}", _definition, failure.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure => _log.Warning("Deleting old dead-letter events of {0} failed: {1}", _definition, failure.Cause.Message));
    }

    public override string PersistenceId { get; }

    /// <param name="limits">The size letters are cut to, and pages of a listing; the node's are <see cref="DeadLetterLimits.Of"/> its capture settings.</param>
    public static Props Props(string definition, IActorRef region, DedupeMode mode, DeadLetterLimits? limits = null) =>
        Akka.Actor.Props.Create(() => new DeadLetterStore(definition, region, mode, limits));

    /// <summary>A page of the entries, oldest parked first (by park sequence, so a page's place does not depend on clocks).</summary>
    private DeadLetterPage Page(int offset, int limit) =>
        DeadLetterPaging.Page(_keyBySequence.Values.Select(key => _entries[key].Letter), _entries.Count, offset, limit, _limits.MaxPageBytes);

    private EntryKey KeyOf(RowChange change) =>
        new(change.Schema, change.Table, change.Key.Canonical, _mode == DedupeMode.EveryChange ? change.Version : null);

    private void Apply(DeadLetterParked parked)
    {
        var sequence = ++_parkSequence;
        var key = KeyOf(parked.Change);
        if (_entries.TryGetValue(key, out var held) && held.Letter.Change.Version > parked.Change.Version)
        {
            // A newer change of the pk is parked already: it supersedes this one, as in the bucket.
            return;
        }

        Put(key, new StoredDeadLetter(sequence, parked));
    }

    private void Apply(DeadLetterResolved resolved)
    {
        if (_keyBySequence.Remove(resolved.ParkSequence, out var key))
        {
            _entries.Remove(key);
        }
    }

    private void Put(EntryKey key, StoredDeadLetter entry)
    {
        if (_entries.TryGetValue(key, out var replaced))
        {
            _keyBySequence.Remove(replaced.ParkSequence);
        }

        _entries[key] = entry;
        _keyBySequence[entry.ParkSequence] = key;
    }

    private void Remove(EntryKey key)
    {
        if (_entries.Remove(key, out var removed))
        {
            _keyBySequence.Remove(removed.ParkSequence);
        }
    }

    private void Clear()
    {
        _entries.Clear();
        _keyBySequence.Clear();
    }

    /// <summary>An event of a version before park sequences: it clears the pk's entries that failed no later than the retry began, as it did then.</summary>
    private void Apply(DeadLetterCleared cleared)
    {
        foreach (var (key, entry) in _entries.ToList())
        {
            if (key.Schema == cleared.Schema && key.Table == cleared.Table && key.Pk == cleared.Pk && entry.Letter.LastFailure <= cleared.RetriedAt)
            {
                Remove(key);
            }
        }
    }

    private void Restore(object snapshot)
    {
        Clear();
        switch (snapshot)
        {
            case DeadLetterStoreState state:
                foreach (var entry in state.Entries)
                {
                    Put(KeyOf(entry.Letter.Change), entry);
                }

                _parkSequence = state.LastParkSequence;
                break;
            case DeadLetterStoreSnapshot legacy:
                // Written before park sequences: the entries get them in order, the same on every recovery.
                _parkSequence = 0;
                foreach (var entry in legacy.Entries)
                {
                    Apply(entry);
                }

                break;
        }
    }

    /// <summary>
    /// Sends each entry to its bucket as a delivery of this store's own epoch, the changes of one pk
    /// in source order; the bucket applies it like any change (fenced by version, so a letter
    /// superseded by a newer change is refused as stale) and acknowledges it here.
    /// </summary>
    private void Retry()
    {
        _retryEpoch = RetryEpochPrefix + Guid.NewGuid().ToString("N")[..12];
        _retrying.Clear();
        foreach (var (_, entry) in _entries.OrderBy(e => e.Key.Schema, StringComparer.Ordinal).ThenBy(e => e.Key.Table, StringComparer.Ordinal).ThenBy(e => e.Key.Pk, StringComparer.Ordinal).ThenBy(e => e.Value.Letter.Change.Version))
        {
            var sequence = ++_retrySequence;
            _retrying[sequence] = entry.ParkSequence;
            var letter = entry.Letter;
            _region.Tell(new DeliverChanges(_definition, letter.Bucket, _retryEpoch, 0, [new SequencedChange(sequence, letter.Change)]), Self);
        }

        _log.Info("Dead letters of {0}: retrying {1} entries.", _definition, _retrying.Count);
        Sender.Tell(new DeadLettersRetrying(_retrying.Count));
    }

    private void HandleFinished(ChangesFinished finished)
    {
        if (finished.Epoch != _retryEpoch)
        {
            return;
        }

        var resolved = new List<DeadLetterResolved>();
        foreach (var sequence in finished.Sequences)
        {
            if (_retrying.Remove(sequence, out var parkSequence) && _keyBySequence.ContainsKey(parkSequence))
            {
                resolved.Add(new DeadLetterResolved(parkSequence));
            }
        }

        PersistAll(resolved, done =>
        {
            Apply(done);
            SnapshotIfDue();
        });
    }

    private void SnapshotIfDue()
    {
        if (LastSequenceNr % SnapshotEvery == 0)
        {
            SaveSnapshot(new DeadLetterStoreState(_parkSequence, _entries.Values.ToList()));
        }
    }

    /// <summary>An entry's identity: the pk, and in every-change mode the change's version too.</summary>
    private readonly record struct EntryKey(string Schema, string Table, string Pk, SourceVersion? Version);
}
