using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace Replicator.Engine.Replication;

/// <summary>
/// The persisted dead-letter store of one definition (a cluster singleton): pks whose change ran out
/// of attempts, with the change, the last error and the attempts. Operators list and purge it;
/// a bucket acknowledges a parked change to the capture only after the store persisted it.
/// The newest entry per pk is kept.
/// </summary>
public sealed class DeadLetterStore : ReceivePersistentActor
{
    private const int SnapshotEvery = 100;

    private readonly string _definition;
    private readonly IActorRef _region;
    private readonly Dictionary<(string, string, string), DeadLetterParked> _entries = new();
    private readonly Dictionary<long, (DeadLetterParked Letter, DateTime RetriedAt)> _retrying = new();
    private string _retryEpoch = "";
    private long _retrySequence;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public DeadLetterStore(string definition, IActorRef region)
    {
        _definition = definition;
        _region = region;
        PersistenceId = "dead-letters-" + definition;

        Recover<DeadLetterParked>(Apply);
        Recover<DeadLettersPurged>(_ => _entries.Clear());
        Recover<DeadLetterCleared>(Apply);
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is DeadLetterStoreSnapshot snapshot)
            {
                _entries.Clear();
                foreach (var entry in snapshot.Entries)
                {
                    Apply(entry);
                }
            }
        });

        Command<DeadLetterParked>(parked => Persist(parked, stored =>
        {
            Apply(stored);
            Sender.Tell(DeadLetterAccepted.Instance);
            SnapshotIfDue();
        }));
        Command<ListDeadLetters>(_ => Sender.Tell(new DeadLetterStoreSnapshot(_entries.Values.OrderBy(e => e.LastFailure).ToList())));
        Command<PurgeDeadLetters>(_ =>
        {
            var purged = new DeadLettersPurged(_entries.Count);
            Persist(purged, done =>
            {
                _entries.Clear();
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

    public static Props Props(string definition, IActorRef region) => Akka.Actor.Props.Create(() => new DeadLetterStore(definition, region));

    private void Apply(DeadLetterParked parked) =>
        _entries[(parked.Change.Schema, parked.Change.Table, parked.Change.Key.Canonical)] = parked;

    private void Apply(DeadLetterCleared cleared)
    {
        var key = (cleared.Schema, cleared.Table, cleared.Pk);
        if (_entries.TryGetValue(key, out var entry) && entry.LastFailure <= cleared.RetriedAt)
        {
            _entries.Remove(key);
        }
    }

    /// <summary>
    /// Sends each entry to its bucket as a delivery of this store's own epoch; the bucket applies it
    /// like any change (fenced by version, so a letter superseded by a newer change is refused as
    /// stale) and acknowledges it here.
    /// </summary>
    private void Retry()
    {
        _retryEpoch = "dead-letters-" + Guid.NewGuid().ToString("N")[..12];
        _retrying.Clear();
        var now = DateTime.UtcNow;
        foreach (var letter in _entries.Values)
        {
            var sequence = ++_retrySequence;
            _retrying[sequence] = (letter, now);
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

        var cleared = new List<DeadLetterCleared>();
        foreach (var sequence in finished.Sequences)
        {
            if (_retrying.Remove(sequence, out var retried))
            {
                var change = retried.Letter.Change;
                cleared.Add(new DeadLetterCleared(change.Schema, change.Table, change.Key.Canonical, retried.RetriedAt));
            }
        }

        PersistAll(cleared, done =>
        {
            Apply(done);
            SnapshotIfDue();
        });
    }

    private void SnapshotIfDue()
    {
        if (LastSequenceNr % SnapshotEvery == 0)
        {
            SaveSnapshot(new DeadLetterStoreSnapshot(_entries.Values.ToList()));
        }
    }
}
