using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture.Testing;
using Replicator.Engine.Configuration;
using Replicator.Engine.Offsets;
using Replicator.Engine.Replication;
using Replicator.Engine.Routing;
using Replicator.Engine.Serialization;
using Replicator.Model;

namespace Replicator.Engine.Capture;

/// <summary>
/// Captures one source (a cluster singleton per source, so each binlog has one reader). A reader
/// task pumps the batches of an <see cref="IChangeSource"/> (the binlog through a
/// <see cref="ChangeExtractor"/>, see <see cref="BinlogChangeSource"/>) to the actor, which routes each change to the buckets of every definition whose topics match,
/// tracks the deliveries until the buckets acknowledge them, re-delivers what stays
/// unacknowledged, and persists the offset that <see cref="CommitTracker"/> says is safe.
/// </summary>
/// <remarks>
/// A failed reader is restarted with backoff under a new epoch, from the tracker's safe offset:
/// what was in flight is delivered again (buckets coalesce it; sinks are fenced by version).
/// The offset is persisted per committed transaction progress at most every
/// offset-commit-interval, never per event.
/// </remarks>
public sealed class CaptureActor : ReceivePersistentActor, IWithTimers
{
    private const string CommitTimer = "commit";
    private const string RedeliveryTimer = "redeliver";
    private const string ReconnectTimer = "reconnect";
    private const string RedeliverDepartedTimer = "redeliver-departed";

    private readonly ReplicatorSettings _settings;
    private readonly SourceSettings _source;
    private readonly IReadOnlyList<CaptureRoute> _routes;
    private readonly ITableSchemaSource? _schemaSource;
    private readonly TableFilter _filter;
    private readonly SourceCounters _counters;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DeliveryPlanner _planner;
    private readonly HashSet<Address> _departed = new();

    // Tables paused in this run, for the gauge (TablePaused and HoldOversized).
    private readonly HashSet<string> _pausedTables = new(StringComparer.OrdinalIgnoreCase);

    // Outcomes of XA transactions whose prepared rows were too many to hold, by their prepare's restart point (see RereadForXa).
    private readonly Dictionary<BinlogPosition, XaOutcome> _knownXaOutcomes = new();

    private SourceOffset? _persisted;
    private SourceServer? _server;
    private BinlogPosition? _foreignPosition;
    private CommitTracker _tracker = new(null);
    private FlowControl _credits;
    private CancellationTokenSource? _readerCancellation;
    private int _generation;
    private CaptureState _state = CaptureState.Starting;
    private string? _lastError;
    private int _failedAttempts;
    private long _reconnects;
    private DateTime? _lastCommitUtc;
    private bool _stopping;
    private XaRereadNeeded? _rereading;
    private Address _selfAddress = null!;

    public CaptureActor(ReplicatorSettings settings, SourceSettings source, IReadOnlyList<CaptureRoute> routes, ITableSchemaSource? schemaSource)
    {
        _settings = settings;
        _source = source;
        _routes = routes;
        _schemaSource = schemaSource;
        _filter = new TableFilter(source.Tables);
        _counters = ReplicationMetrics.Get(Context.System).Source(source.Name);
        _credits = new FlowControl(settings.Capture.MaxInFlight, settings.Capture.MaxInFlightBytes);
        _planner = new DeliveryPlanner(routes, settings.Capture, DeliveryChaos.For(settings.Testing));
        PersistenceId = "capture-" + source.Name;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is CaptureSnapshot snapshot)
            {
                _persisted = snapshot.Offset;
                _server = snapshot.Offset.Server;
            }
        });
        Recover<OffsetCommitted>(committed => (_persisted, _server) = (committed.Offset, committed.Offset.Server));
        Recover<RecoveryCompleted>(_ => Self.Tell(StartReading.Instance));

        Command<StartReading>(_ => Start());
        Command<ReaderItems>(HandleItems);
        Command<ReaderFailed>(HandleReaderFailed);
        Command<ChangesFinished>(HandleFinished);
        Command<DeliveriesReleased>(HandleReleased);
        Command<DeliveriesHeld>(HandleHeld);
        Command<Akka.Cluster.ClusterEvent.MemberRemoved>(removed =>
        {
            // Buckets of a removed node move; what they held is sent to their new homes now rather
            // than after the redelivery timeout. Buckets drop what they already hold.
            _log.Info("Capture {0}: {1} left the cluster; its buckets' unfinished changes go to their new homes", _source.Name, removed.Member.Address);
            _departed.Add(removed.Member.Address);
            Timers.StartSingleTimer(RedeliverDepartedTimer, RedeliverDeparted.Instance, TimeSpan.FromMilliseconds(500));
        });
        Command<RedeliverDeparted>(_ => RedeliverToDeparted());
        Command<Akka.Cluster.ClusterEvent.IMemberEvent>(_ => { });
        Command<CommitTick>(_ =>
        {
            UpdateGauges();
            Commit();
        });
        Command<RedeliveryTick>(_ => RedeliverOverdue());
        Command<GetCaptureStatus>(_ => Sender.Tell(Status()));
        Command<StopCapture>(_ => StopGracefully());
        Command<SaveSnapshotSuccess>(success =>
        {
            DeleteMessages(success.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(failure => _log.Warning("Capture {0}: saving a snapshot failed: {1}", _source.Name, failure.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure => _log.Warning("Capture {0}: deleting old offset events failed: {1}", _source.Name, failure.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ReplicatorSettings settings, SourceSettings source, IReadOnlyList<CaptureRoute> routes, ITableSchemaSource? schemaSource) =>
        Akka.Actor.Props.Create(() => new CaptureActor(settings, source, routes, schemaSource));

    private void Start()
    {
        _generation++;
        _planner.StartEpoch($"{_source.Name}-{Guid.NewGuid():N}"[..(Math.Min(_source.Name.Length, 40) + 13)]);
        _credits = new FlowControl(_settings.Capture.MaxInFlight, _settings.Capture.MaxInFlightBytes);
        _pausedTables.Clear();
        _tracker = new CommitTracker(_persisted);
        _state = CaptureState.Reading;
        _rereading = null;
        if (_persisted is { } saved)
        {
            // An outcome is needed only while the offset is at or before its prepare.
            foreach (var passed in _knownXaOutcomes.Keys.Where(p => p < saved.Position).ToList())
            {
                _knownXaOutcomes.Remove(passed);
            }
        }

        var resume = _persisted is null ? null : new ResumePoint(_persisted.Position, _persisted.SkipRows);
        var start = _persisted is null ? _source.Start : _source.ResumeFrom(_persisted);
        _log.Info("Capture {0}: reading {1} from {2} (epoch {3})", _source.Name, _source.Describe(), _persisted?.ToString() ?? Describe(start), _planner.Epoch);

        var source = new BinlogChangeSource(new BinlogSourceStart(
            _source.ConnectionString,
            _persisted,
            start,
            _log,
            _source.ClientOptions(start) with { SchemaSource = _schemaSource },
            _source.Name,
            _filter,
            _source.KeyColumns,
            resume,
            _persisted?.Gtid is { } gtid ? MariaDbGtidPosition.Parse(gtid) : null,
            _schemaSource,
            _credits,
            _settings.Capture.MaxInFlight,
            _settings.Capture.MaxInFlightBytes,
            _source.ResyncedThrough,
            new Dictionary<BinlogPosition, XaOutcome>(_knownXaOutcomes),
            _settings.Capture.MaxHeldXaChanges,
            _settings.Capture.MaxHeldXaBytes));
        _readerCancellation = new CancellationTokenSource();
        var generation = _generation;
        var self = Self;
        PumpAsync(source, generation, self, _readerCancellation.Token)
            .ContinueWith(
                t => new ReaderFailed(generation, t.Exception?.GetBaseException() ?? new BinlogConnectionException($"The binlog stream of {_source.Name} ended.")),
                TaskContinuationOptions.ExecuteSynchronously)
            .PipeTo(self);

        Timers.StartPeriodicTimer(CommitTimer, CommitTick.Instance, _settings.Capture.OffsetCommitInterval);
        var redeliveryCheck = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond * 50, _settings.Capture.RedeliveryTimeout.Ticks / 4));
        Timers.StartPeriodicTimer(RedeliveryTimer, RedeliveryTick.Instance, redeliveryCheck);
    }

    /// <summary>Reads the source on the thread pool, telling the actor each batch under the reader's generation. Touches no actor state.</summary>
    private static async Task PumpAsync(IChangeSource source, int generation, IActorRef self, CancellationToken cancellationToken)
    {
        await foreach (var batch in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            self.Tell(new ReaderItems(generation, batch));
        }
    }

    /// <summary>
    /// The reader knows which server it reads: offsets saved from now on name it (an offset saved
    /// before servers were recorded adopts it). On another server, reached by GTID, the saved
    /// position is that other server's and is never saved again under this one's name.
    /// </summary>
    private void HandleServerIdentified(SourceIdentified identified)
    {
        if (identified.Changed)
        {
            _log.Warning(
                "Capture {0}: the source is now {1}; the offset was saved on {2}. Resuming after its GTID position {3}; offsets from now on refer to the binlog of {1}.",
                _source.Name,
                identified.Server,
                _persisted?.Server,
                _persisted?.Gtid);
        }
        else if (_server is null)
        {
            _log.Info("Capture {0}: the saved offset names no server; it is {1} from now on", _source.Name, identified.Server);
        }

        _server = identified.Server;
        _foreignPosition = identified.Changed ? _persisted?.Position : null;
    }

    private void HandleItems(ReaderItems message)
    {
        if (message.Generation != _generation || _rereading is not null)
        {
            return;
        }

        if (message.Items is not [SourceIdentified])
        {
            // Changes flow again (an identification alone comes before the source's checks are done).
            _failedAttempts = 0;
        }

        var now = DateTime.UtcNow;
        foreach (var item in message.Items)
        {
            switch (item)
            {
                case SourceIdentified identified:
                    HandleServerIdentified(identified);
                    break;
                case TransactionBegan began:
                    _tracker.Began(began);
                    if (began.CommitTime is { } committed)
                    {
                        _counters.RecordCaptureLag(now - committed);
                    }

                    break;
                case ChangeCaptured captured:
                    Route(captured, now);
                    break;
                case RowsCounted counted:
                    _tracker.RowsSeen(counted.TransactionId, counted.RowsSeen);
                    break;
                case TransactionEnded ended:
                    _tracker.Ended(ended);
                    break;
                case TransactionPrepared prepared:
                    _tracker.Prepared(prepared);
                    break;
                case XaResolved resolved:
                    _tracker.Resolved(resolved);
                    break;
                case CaptureWarning warning:
                    _log.Warning("Capture {0}: {1}", _source.Name, warning.Message);
                    break;
                case XaRereadNeeded reread:
                    RereadForXa(reread);
                    return;
                case Positioned positioned:
                    _tracker.Positioned(positioned);
                    break;
                case TablePaused paused:
                    // Never completed: the offset stays before the table's first unmapped row.
                    _tracker.Pinned(paused.TransactionId, paused.RowOrdinal);
                    _pausedTables.Add(paused.Table);
                    _state = CaptureState.TablePaused;
                    _lastError = paused.Fix is null ? $"table {paused.Table} is paused: {paused.Reason}" : $"table {paused.Table} is paused: {paused.Reason}. {paused.Fix}";
                    _log.Error(
                        "Capture {0}: {1} Its changes are held back and the offset will not move past them; the other tables go on.{2}",
                        _source.Name,
                        _lastError,
                        paused.Fix is null ? " Fix the table (key-columns, metadata) and restart the capture." : "");
                    break;
            }
        }

        Send(_planner.TakeRouted());
    }

    /// <summary>
    /// A committed XA's prepared rows were too many to hold, and were dropped: the reader stops, the
    /// safe offset (at or before the prepare, which never settled) is persisted, and once the reader
    /// has ended (so its dump no longer holds the server_id) reading starts again from there with
    /// the outcome known, so the prepare's rows go out as they are read.
    /// </summary>
    private void RereadForXa(XaRereadNeeded reread)
    {
        _knownXaOutcomes[reread.PrepareAt] = new XaOutcome(reread.Xid, reread.Committed);
        _rereading = reread;
        _log.Info(
            "Capture {0}: XA {1} prepared at {2} committed, and its rows were too many to hold until then (replicator.capture.max-held-xa-changes, max-held-xa-bytes); reading again from {3}",
            _source.Name,
            reread.Xid,
            reread.PrepareAt,
            _tracker.Offset);
        _readerCancellation?.Cancel();
        Commit();
    }

    private void Route(ChangeCaptured captured, DateTime now)
    {
        _counters.AddCaptured(1);
        _lastCommitUtc = captured.Change.CommitTime;
        var routing = _planner.Route(captured, now);
        for (var i = 0; i < routing.Deliveries; i++)
        {
            _tracker.Emitted(captured.TransactionId, captured.RowOrdinal);
        }

        if (routing.Deliveries == 0)
        {
            _credits.Release(1, routing.Bytes);
        }

        if (routing.PausesTable)
        {
            HoldOversized(captured, routing.Bytes);
        }
    }

    /// <summary>
    /// A change too large for any message between nodes can never reach a bucket on another node.
    /// Its table pauses, as one whose rows cannot be mapped does: the change counts as emitted and
    /// never finishes, so the offset stays before it, loudly; the table's later changes are left
    /// here (a restart re-reads them from that offset) so none of them overtakes it; the other
    /// tables go on.
    /// </summary>
    private void HoldOversized(ChangeCaptured captured, long size)
    {
        var change = captured.Change;
        var capture = _settings.Capture;
        _tracker.Pinned(captured.TransactionId, captured.RowOrdinal);
        _pausedTables.Add($"{change.Schema}.{change.Table}");
        _state = CaptureState.TablePaused;
        _lastError = $"table {change.Schema}.{change.Table} is paused: the {change.Action.Name()} of pk {change.Key} at {change.Position.File}:{change.Position.Position} "
            + $"takes {CaptureSettings.Bytes(size)} bytes in a delivery, more than a message between nodes carries ({CaptureSettings.Bytes(capture.MaxChangeBytes)} bytes "
            + $"within replicator.capture.max-frame-size = {CaptureSettings.Bytes(capture.MaxFrameSize)} bytes). Raise replicator.capture.max-frame-size above "
            + $"{CaptureSettings.Bytes(size + CaptureSettings.DeliveryOverhead)} bytes on every node and restart them; until then the offset stays before this row.";
        _log.Error("Capture {0}: {1} The table's later changes are held back with it; the other tables go on.", _source.Name, _lastError);
    }

    private void Send(IReadOnlyList<BucketDelivery> deliveries)
    {
        foreach (var delivery in deliveries)
        {
            delivery.Region.Tell(delivery.Message, Self);
        }
    }

    private void HandleFinished(ChangesFinished finished)
    {
        foreach (var outstanding in _planner.Finish(finished, SenderNode()))
        {
            _tracker.Completed(outstanding.Captured.TransactionId, outstanding.Captured.RowOrdinal);
            if (outstanding.Ticket.Remaining == 0)
            {
                _credits.Release(1, outstanding.Ticket.Bytes);
            }
        }
    }

    /// <summary>
    /// A bucket is stopping for a hand-off. Everything outstanding for it goes again, not only what
    /// it handed back: the region that hosted it drops what it buffered for it during the hand-off
    /// (to keep order), and that would otherwise wait for the redelivery timeout, doubled if it had
    /// been re-sent before.
    /// </summary>
    private void HandleReleased(DeliveriesReleased released)
    {
        if (_planner.Released(released, DateTime.UtcNow) is { } again)
        {
            _log.Info(
                "Capture {0}: bucket {1}/{2} is handed off holding {3} unfinished changes; sending its {4} outstanding to its next home",
                _source.Name,
                released.Definition,
                released.Bucket,
                released.Sequences.Count,
                again.Changes);
            Send(again.Deliveries);
        }
    }

    /// <summary>
    /// The bucket still holds these re-delivered changes: they are not lost, only slow (a long
    /// queue, a pk backing off), so they wait the longest redelivery interval before going again.
    /// A node's departure or the bucket's hand-off sends them at once whatever that wait.
    /// </summary>
    private void HandleHeld(DeliveriesHeld held) => _planner.Held(held, SenderNode(), DateTime.UtcNow);

    /// <summary>The node a bucket answered from, so a node's departure re-sends only what its buckets held.</summary>
    private Address SenderNode() => Sender.Path.Address.Host is null ? _selfAddress : Sender.Path.Address;

    /// <summary>Sends again what stayed unacknowledged past its redelivery interval (see <see cref="OutstandingDeliveries"/>).</summary>
    private void RedeliverOverdue()
    {
        var timeout = _settings.Capture.RedeliveryTimeout;
        if (_planner.Overdue(DateTime.UtcNow, timeout) is { } again)
        {
            _log.Info("Capture {0}: re-delivering {1} changes unacknowledged for {2:0.#}s or more", _source.Name, again.Changes, timeout.TotalSeconds);
            Send(again.Deliveries);
        }
    }

    /// <summary>Sends the unfinished changes of buckets last heard from on a departed node (or never heard from) to their new homes.</summary>
    private void RedeliverToDeparted()
    {
        var again = _planner.Departed(_departed, DateTime.UtcNow);
        var departed = string.Join(", ", _departed);
        _departed.Clear();
        if (again is not null)
        {
            _log.Info("Capture {0}: re-delivering {1} unfinished changes of buckets that were on {2} (of {3} outstanding)", _source.Name, again.Changes, departed, _planner.Outstanding);
            Send(again.Deliveries);
        }
    }

    private void Commit(Action? then = null)
    {
        var offset = _tracker.Offset is { } tracked ? tracked with { Server = _server } : null;
        if (offset is null || offset == _persisted || offset.Position == _foreignPosition)
        {
            then?.Invoke();
            return;
        }

        CrashPoints.Get(Context.System).Reached(CrashPoint.BeforePersist);
        Persist(new OffsetCommitted(offset), committed =>
        {
            CrashPoints.Get(Context.System).Reached(CrashPoint.AfterPersist);
            _persisted = committed.Offset;
            _counters.AddOffsetCommit();
            if (LastSequenceNr % _settings.Capture.SnapshotEvery == 0)
            {
                SaveSnapshot(new CaptureSnapshot(committed.Offset));
            }

            then?.Invoke();
        });
    }

    private void HandleReaderFailed(ReaderFailed failed)
    {
        if (failed.Generation != _generation || _stopping)
        {
            return;
        }

        if (_rereading is not null)
        {
            // The reader stopped for an XA re-read (see RereadForXa); it is not a failure.
            Timers.Cancel(RedeliveryTimer);
            _generation++;
            Timers.StartSingleTimer(ReconnectTimer, StartReading.Instance, _settings.Capture.ReconnectMinBackoff);
            return;
        }

        _readerCancellation?.Cancel();
        _failedAttempts++;
        _reconnects++;
        _counters.AddReconnect();
        _lastError = Describe(failed.Error);
        var permanent = failed.Error is BinlogException { IsTransient: false } or MissingKeyException or Binlog.Parsers.BinlogFormatException or PreflightException;
        var backoff = Backoff(permanent);
        _state = CaptureState.BackingOff;
        _log.Error("Capture {0}: {1} Retrying in {2:0.#}s.", _source.Name, _lastError, backoff.TotalSeconds);

        // Persist what is safe before starting over from it under a new epoch.
        Commit();
        Timers.Cancel(RedeliveryTimer);
        _generation++;
        Timers.StartSingleTimer(ReconnectTimer, StartReading.Instance, backoff);
    }

    private TimeSpan Backoff(bool permanent)
    {
        var min = _settings.Capture.ReconnectMinBackoff;
        var max = _settings.Capture.ReconnectMaxBackoff;
        if (permanent)
        {
            return max;
        }

        var raw = min.TotalMilliseconds * Math.Pow(2, Math.Min(_failedAttempts - 1, 30));
        var jittered = raw * (0.8 + (0.4 * Random.Shared.NextDouble()));
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, min.TotalMilliseconds, max.TotalMilliseconds));
    }

    private void StopGracefully()
    {
        _stopping = true;
        _readerCancellation?.Cancel();
        Commit(() => Context.Stop(Self));
    }

    /// <summary>Sets the gauges read from the commit tracker (at each commit tick, not per change).</summary>
    private void UpdateGauges()
    {
        _counters.SetOldestPendingPrepare(_tracker.OldestPendingPrepare);
        _counters.SetOldestUnfinished(_tracker.OldestUnsettled);
        _counters.SetPausedTables(_pausedTables.Count);
    }

    private CaptureStatus Status() => new(
        _source.Name,
        _state,
        _planner.Epoch,
        _persisted,
        _tracker.Offset,
        _counters.Captured,
        _planner.Outstanding,
        _reconnects,
        _lastError,
        _lastCommitUtc);

    protected override void PreStart()
    {
        base.PreStart();
        _selfAddress = Akka.Cluster.Cluster.Get(Context.System).SelfAddress;
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(Akka.Cluster.ClusterEvent.MemberRemoved));
    }

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        _readerCancellation?.Cancel();
        base.PostStop();
    }

    private static string Describe(StartPosition start) => start switch
    {
        StartPosition.AtEnd => "the current end of the binlog",
        StartPosition.AtOldest => "the oldest binlog on the server",
        StartPosition.AtPosition at => at.Position.ToString(),
        _ => start.ToString(),
    };

    private static string Describe(Exception e) => e switch
    {
        BinlogException or MissingKeyException or Binlog.Parsers.BinlogFormatException or PreflightException => e.Message,
        MySqlConnector.MySqlException => $"the source could not be queried: {e.Message}",
        OperationCanceledException => "the reader was cancelled.",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private sealed record ReaderItems(int Generation, IReadOnlyList<CaptureItem> Items) : INoSerializationVerificationNeeded;

    private sealed record ReaderFailed(int Generation, Exception Error) : INoSerializationVerificationNeeded;

    private sealed record StartReading : INoSerializationVerificationNeeded
    {
        public static StartReading Instance { get; } = new();
    }

    private sealed record CommitTick : INoSerializationVerificationNeeded
    {
        public static CommitTick Instance { get; } = new();
    }

    private sealed record RedeliverDeparted : INoSerializationVerificationNeeded
    {
        public static RedeliverDeparted Instance { get; } = new();
    }

    private sealed record RedeliveryTick : INoSerializationVerificationNeeded
    {
        public static RedeliveryTick Instance { get; } = new();
    }
}

/// <summary>A definition a capture routes to: its settings, its topic matcher and its shard region (or proxy).</summary>
public sealed record CaptureRoute(DefinitionSettings Definition, TopicMatcher Matcher, IActorRef Region);

/// <summary>Asks a capture to persist its offset and stop (the singleton's termination message).</summary>
public sealed record StopCapture : INoSerializationVerificationNeeded
{
    public static StopCapture Instance { get; } = new();
}
