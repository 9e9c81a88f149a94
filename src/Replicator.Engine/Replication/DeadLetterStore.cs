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
    private readonly Dictionary<(string, string, string), DeadLetterParked> _entries = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public DeadLetterStore(string definition)
    {
        _definition = definition;
        PersistenceId = "dead-letters-" + definition;

        Recover<DeadLetterParked>(Apply);
        Recover<DeadLettersPurged>(_ => _entries.Clear());
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
        Command<SaveSnapshotSuccess>(success => DeleteMessages(success.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(failure => _log.Warning("Snapshot of dead letters of {0} failed: {1}", _definition, failure.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure => _log.Warning("Deleting old dead-letter events of {0} failed: {1}", _definition, failure.Cause.Message));
    }

    public override string PersistenceId { get; }

    public static Props Props(string definition) => Akka.Actor.Props.Create(() => new DeadLetterStore(definition));

    private void Apply(DeadLetterParked parked) =>
        _entries[(parked.Change.Schema, parked.Change.Table, parked.Change.Key.Canonical)] = parked;

    private void SnapshotIfDue()
    {
        if (LastSequenceNr % SnapshotEvery == 0)
        {
            SaveSnapshot(new DeadLetterStoreSnapshot(_entries.Values.ToList()));
        }
    }
}
