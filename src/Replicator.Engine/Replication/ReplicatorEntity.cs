using Akka.Actor;
using Akka.Event;
using Replicator.Engine.Configuration;
using Replicator.Engine.Jobs;
using Replicator.Jobs;

namespace Replicator.Engine.Replication;

/// <summary>
/// One bucket of a replicator definition (<c>&lt;definition&gt;/&lt;bucket&gt;</c>), a sharded entity.
/// It queues the pks delivered to it (deduplicated by <see cref="DedupeQueue"/>), applies them in
/// batches through the definition's job, one batch at a time, retries failed pks on their own
/// backoff (the pks of a batch that failed as a whole one by one, so one bad row fails alone),
/// parks pks that run out of attempts, and acknowledges each delivery to the capture that
/// sent it once the change is applied, refused as stale, or parked (once the dead-letter store has
/// confirmed it; a failed store write is tried again, never dropped). While the definition's sink
/// counts as down (<see cref="SinkHealth"/>) failed pks are kept and tried again without spending
/// their attempts, so a long outage parks nothing and the capture's backpressure takes over.
/// </summary>
/// <remarks>
/// Its queue lives in memory only: if the entity or its node dies, the capture re-delivers what was
/// not acknowledged after its redelivery timeout, to wherever the bucket lives then.
/// </remarks>
public sealed class ReplicatorEntity : ReceiveActor, IWithTimers
{
    private const string RetryTimer = "retry";
    private const string ParkTimerPrefix = "park-";
    private static readonly TimeSpan MaxParkBackoff = TimeSpan.FromMinutes(1);  // storing a dead letter, and probing a sink that is down

    /// <summary>How long row mode waits before each read of a partial insert's row: a commit becomes visible a moment after its binlog event.</summary>
    private static readonly TimeSpan[] VisibilityRereads = [TimeSpan.Zero, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(250)];

    private readonly DefinitionSettings _definition;
    private readonly int _bucket;
    private readonly IReplicationJob _job;
    private readonly IActorRef? _deadLetters;
    private readonly ICurrentRows? _currentRows;
    private readonly DeadLetterLimits _limits;
    private readonly HashSet<(string Schema, string Table)> _partialInserts = new();
    private readonly DedupeQueue _queue;
    private readonly DefinitionCounters _counters;
    private readonly Dictionary<string, IActorRef> _captures = new();
    private readonly Dictionary<IActorRef, string> _epochOf = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _applying;
    private long _parkings;
    private long _reportedPending;
    private long _reportedEpochs;

    public ReplicatorEntity(DefinitionSettings definition, int bucket, IReplicationJob job, IActorRef? deadLetters, ICurrentRows? currentRows, DeadLetterLimits? limits = null)
    {
        _limits = limits ?? DeadLetterLimits.Default;
        _definition = definition;
        _bucket = bucket;
        _job = job;
        _deadLetters = deadLetters;
        _currentRows = currentRows;
        _queue = new DedupeQueue(definition.Mode, definition.Retry, seed: HashCode.Combine(definition.Name, bucket));
        _counters = ReplicationMetrics.Get(Context.System).Definition(definition.Name);

        Receive<DeliverChanges>(HandleDeliver);
        Receive<BatchDone>(HandleBatchDone);
        Receive<RetryDue>(_ => TryApply());
        Receive<ParkDone>(HandleParkDone);
        Receive<Parking>(Store);
        Receive<StopBucket>(_ => Release());
        Receive<Terminated>(terminated =>
        {
            if (_epochOf.Remove(terminated.ActorRef, out var epoch))
            {
                ForgetEpoch(epoch);
            }
        });
    }

    /// <summary>
    /// Remembers who sends under <paramref name="epoch"/>, to acknowledge to. Each sender (a capture,
    /// a dead-letter store) has one current epoch: its previous one, and one of a sender that is
    /// gone, are forgotten, so the state kept per epoch stays bounded however often captures restart.
    /// </summary>
    private void NoteSender(string epoch)
    {
        if (!_epochOf.TryGetValue(Sender, out var previous))
        {
            if (!Sender.IsNobody())
            {
                Context.Watch(Sender);
            }
        }
        else if (previous != epoch)
        {
            ForgetEpoch(previous);
        }

        _epochOf[Sender] = epoch;
        _captures[epoch] = Sender;
    }

    private void ForgetEpoch(string epoch)
    {
        _captures.Remove(epoch);
        _queue.ForgetEpoch(epoch);
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        var handled = base.AroundReceive(receive, message);
        ReportGauges();
        return handled;
    }

    /// <summary>Keeps the node's gauges of this definition (held deliveries, remembered epochs) in step with this bucket.</summary>
    private void ReportGauges()
    {
        long pending = _queue.PendingDeliveries, epochs = _queue.Epochs;
        if (pending != _reportedPending)
        {
            _counters.AddPending(pending - _reportedPending);
            _reportedPending = pending;
        }

        if (epochs != _reportedEpochs)
        {
            _counters.AddEpochs(epochs - _reportedEpochs);
            _reportedEpochs = epochs;
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="currentRows">Reads rows from the source for the changes that need it (see <see cref="ICurrentRows"/>); null writes every image as it is.</param>
    /// <param name="limits">The size a dead letter is cut to (its error text); the node's are <see cref="DeadLetterLimits.Of"/> its capture settings.</param>
    public static Props Props(DefinitionSettings definition, int bucket, IReplicationJob job, IActorRef? deadLetters, ICurrentRows? currentRows = null, DeadLetterLimits? limits = null) =>
        Akka.Actor.Props.Create(() => new ReplicatorEntity(definition, bucket, job, deadLetters, currentRows, limits));

    private void HandleDeliver(DeliverChanges deliver)
    {
        NoteSender(deliver.Epoch);
        _counters.AddReceived(deliver.Changes.Count);
        List<long>? again = null, held = null;
        long duplicates = 0, coalesced = 0;
        foreach (var change in deliver.Changes)
        {
            switch (_queue.Enqueue(new Delivery(new DeliveryId(deliver.Epoch, change.Sequence), change.Change)))
            {
                case EnqueueResult.AlreadyFinished:
                    (again ??= []).Add(change.Sequence);
                    duplicates++;
                    break;
                case EnqueueResult.Duplicate:
                    (held ??= []).Add(change.Sequence);
                    duplicates++;
                    break;
                case EnqueueResult.Coalesced:
                    coalesced++;
                    break;
            }
        }

        _counters.AddDuplicates(duplicates);
        _counters.AddCoalesced(coalesced);
        _queue.ForgetFinishedBelow(deliver.Epoch, deliver.SettledBelow);
        if (again is not null)
        {
            Sender.Tell(new ChangesFinished(_definition.Name, _bucket, deliver.Epoch, again));
        }

        if (held is not null)
        {
            // A re-delivery of what is still queued here (a pk backing off, a long queue): the
            // capture learns it is not lost and stops re-sending it so often.
            Sender.Tell(new DeliveriesHeld(_definition.Name, _bucket, deliver.Epoch, held));
        }

        TryApply();
    }

    private void TryApply()
    {
        if (_applying)
        {
            return;
        }

        var batch = _queue.TakeBatch(_definition.BatchSize, DateTime.UtcNow);
        if (batch.Count == 0)
        {
            ScheduleRetry();
            return;
        }

        _applying = true;
        _counters.AddBatch();
        var items = new JobItem[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            items[i] = new JobItem(batch[i].Key, batch[i].Latest.Change, batch[i].Attempt);
        }

        var job = _job;
        var timeout = _definition.ApplyTimeout;
        var reread = ToReread(batch, items);
        var rows = _currentRows;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        RunJob(job, items, reread, rows, timeout).PipeTo(
            Self,
            success: results => new BatchDone(batch, results, null, System.Diagnostics.Stopwatch.GetElapsedTime(started)),
            failure: e => new BatchDone(batch, null, e, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
    }

    /// <summary>
    /// Row mode: the items to write as the row is now at the source rather than as their image says:
    /// a retried dead letter, whose image may be days old (its row since deleted, and the delete's
    /// tombstone expired in the sink); a newer change that covers one (the letter's old image fills
    /// none of its columns, and the row read gives what the letter would have); and an insert
    /// logged without its defaulted columns (binlog_row_image = MINIMAL leaves out what the
    /// statement did not set, and the sink would never get those columns).
    /// </summary>
    private List<Reread>? ToReread(IReadOnlyList<BatchEntry> batch, JobItem[] items)
    {
        if (_currentRows is null || _definition.Mode != DedupeMode.Row)
        {
            return null;
        }

        List<Reread>? reread = null;
        for (var i = 0; i < items.Length; i++)
        {
            var change = items[i].Change;
            if (DedupeQueue.IsRetry(batch[i].Latest.Id))
            {
                (reread ??= []).Add(new Reread(i, Retried: true));
            }
            else if (change.Action != Model.ChangeAction.Delete && batch[i].Covered.Count > 1 && batch[i].Covered.Any(DedupeQueue.IsRetry))
            {
                (reread ??= []).Add(new Reread(i, Retried: false));
            }
            else if (change.Action == Model.ChangeAction.Write && change.After is { } after && PartialImages.HasAbsent(after))
            {
                (reread ??= []).Add(new Reread(i, Retried: false));
                if (_partialInserts.Add((change.Schema, change.Table)))
                {
                    _log.Warning(
                        $"{_definition.Name}/{_bucket}: {change.Schema}.{change.Table}: an insert was logged without the columns it left to their defaults " +
                        "(binlog_row_image = MINIMAL); such inserts are read back from the source and written whole. Set binlog_row_image = FULL on the source to spare the reads.");
                }
            }
        }

        return reread;
    }

    private static async Task<IReadOnlyList<ApplyResult>> RunJob(IReplicationJob job, JobItem[] items, List<Reread>? reread, ICurrentRows? rows, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var unread = reread is null ? null : await RereadAsync(items, reread, rows!, cts.Token).WaitAsync(timeout, cts.Token).ConfigureAwait(false);
        if (unread is null)
        {
            return await ApplyAsync(job, items, timeout, cts.Token).ConfigureAwait(false);
        }

        // The rows not visible yet fail and are retried on their backoff; the others are written.
        var ready = Enumerable.Range(0, items.Length).Where(i => !unread.ContainsKey(i)).ToList();
        var written = ready.Count == 0 ? [] : await ApplyAsync(job, ready.Select(i => items[i]).ToArray(), timeout, cts.Token).ConfigureAwait(false);
        var results = new ApplyResult[items.Length];
        for (var r = 0; r < ready.Count; r++)
        {
            results[ready[r]] = written[r];
        }

        foreach (var (i, error) in unread)
        {
            results[i] = ApplyResult.Failed(error);
        }

        return results;
    }

    private static async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReplicationJob job, JobItem[] items, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var results = await job.ApplyAsync(items, cancellationToken).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (results.Count != items.Length)
        {
            throw new InvalidOperationException($"The job returned {results.Count} results for a batch of {items.Length}.");
        }

        return results;
    }

    /// <summary>
    /// Replaces the image of each of these items by the row as it is now, keeping the change's
    /// version as its fence: a sink that already holds something newer refuses it, and the
    /// changes after it, which carry newer versions, still follow. A retried dead letter is written
    /// as the row is (as a delete when the row is gone, so an old image can never bring it back,
    /// however late). Any other change (a partial insert) is written as the row read with the
    /// columns it carries laid over it (the row as the change left it, whether the read saw its
    /// commit or a later one); one whose row is not there is read again shortly, since MariaDB
    /// writes the binlog before the commit is visible, then left unwritten: returned with its
    /// error, to be retried.
    /// It is never written as a delete: only a retried dead letter's read may turn a missing row
    /// into one.
    /// </summary>
    private static async Task<Dictionary<int, string>?> RereadAsync(JobItem[] items, List<Reread> reread, ICurrentRows rows, CancellationToken cancellationToken)
    {
        IReadOnlyList<Reread> pending = reread;
        foreach (var delay in VisibilityRereads)
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }

            pending = await ReadOnceAsync(items, pending, rows, cancellationToken).ConfigureAwait(false);
            if (pending.Count == 0)
            {
                return null;
            }
        }

        return pending.ToDictionary(r => r.Index, r =>
        {
            var change = items[r.Index].Change;
            return $"row mode: {change.Schema}.{change.Table} pk {change.Key} is not on the source, yet its {Model.ChangeActions.Name(change.Action)} at {change.Version} says it is and carries only part of the row " +
                "(binlog_row_image is not FULL, or a dead letter's retry rides along): its commit is not visible yet (or a later delete is, whose change follows). Retrying.";
        });
    }

    /// <summary>Reads the rows of these items once, one query per table, and rewrites the items found; returns those (not retried letters) whose rows are not there.</summary>
    private static async Task<IReadOnlyList<Reread>> ReadOnceAsync(JobItem[] items, IReadOnlyList<Reread> reread, ICurrentRows rows, CancellationToken cancellationToken)
    {
        List<Reread>? missing = null;
        foreach (var table in reread.GroupBy(r => (items[r.Index].Change.Schema, items[r.Index].Change.Table)))
        {
            // The newest change's columns tell a DDL since the reader cached the table's columns.
            var newest = table.Select(r => items[r.Index].Change).MaxBy(c => c.Version)!;
            var current = await rows.ReadAsync(table.Key.Schema, table.Key.Table, table.Select(r => items[r.Index].Key).ToList(), newest.Image?.Names, cancellationToken).ConfigureAwait(false);
            foreach (var r in table)
            {
                var change = items[r.Index].Change;
                Model.RowChange now;
                if (current.TryGetValue(items[r.Index].Key.Canonical, out var row))
                {
                    now = r.Retried
                        ? change with { Action = change.Action == Model.ChangeAction.Delete ? Model.ChangeAction.Write : change.Action, Before = change.Action == Model.ChangeAction.Delete ? null : change.Before, After = row }
                        : change with { After = PartialImages.LaidOver(row, change.After!) };
                }
                else if (r.Retried)
                {
                    now = change with { Action = Model.ChangeAction.Delete, Before = change.Image, After = null };
                }
                else
                {
                    (missing ??= []).Add(r);
                    continue;
                }

                items[r.Index] = items[r.Index] with { Change = now };
            }
        }

        return missing ?? (IReadOnlyList<Reread>)[];
    }

    private void HandleBatchDone(BatchDone done)
    {
        _applying = false;
        _counters.RecordApply(done.Elapsed);
        var now = DateTime.UtcNow;
        if (done.Error is { } failure && done.Batch.Count > 1)
        {
            BatchFailed(done.Batch, failure, now);
        }
        else
        {
            // A batch of one that failed as a whole failed for its pk.
            var results = done.Results is { } reported ? Bounded(reported) : [Outcome(done.Error!)];
            Complete(done.Batch, results, _counters.Sink.Record(done.Batch.Select((e, i) => (PkText(e), results[i])), now), now);
        }

        TryApply();
    }

    /// <summary>
    /// A batch of several pks failed as a whole (the job threw, a read from the source failed, or it
    /// ran past apply-timeout): that says nothing about any one of its pks, and may be one row's doing.
    /// It counts once, for this bucket, towards a sink outage; unless an outage explains it, its pks
    /// are tried again one by one, so a row that fails every batch it is in spends its own attempts
    /// and is parked, and the others go through.
    /// </summary>
    private void BatchFailed(IReadOnlyList<BatchEntry> batch, Exception failure, DateTime now)
    {
        var outcome = Outcome(failure);
        var sink = _counters.Sink.Record([($"{_definition.Name}/{_bucket}", outcome)], now);
        if (sink.Down && outcome.Unavailable)
        {
            Complete(batch, batch.Select(_ => outcome).ToList(), sink, now);
            return;
        }

        NoteSink(sink, outcome.Error);
        _log.Warning("{0}/{1}: a batch of {2} pks failed as a whole ({3}); trying them one by one.", _definition.Name, _bucket, batch.Count, outcome.Error);
        foreach (var entry in batch)
        {
            _queue.RetryAlone(entry);
        }

        _counters.AddFailures(batch.Count);
    }

    /// <summary>The job's results with every error cut to <see cref="DeadLetterBounds.MaxErrorChars"/>: a sink's error can echo a huge value, and it is kept per pk, logged and parked.</summary>
    private static IReadOnlyList<ApplyResult> Bounded(IReadOnlyList<ApplyResult> results)
    {
        if (results.All(r => r.Error is null || r.Error.Length <= DeadLetterBounds.MaxErrorChars))
        {
            return results;
        }

        return results.Select(r => r.Error is { } error ? r with { Error = DeadLetterBounds.Error(error) } : r).ToList();
    }

    /// <summary>What a failure of a whole job call says: that the sink could take no write (a timeout, no connection, no rights), or that the rows failed.</summary>
    private static ApplyResult Outcome(Exception failure) =>
        SinkHealth.IsUnavailable(failure) ? ApplyResult.SinkUnavailable(Describe(failure)) : ApplyResult.Failed(Describe(failure));

    private void Complete(IReadOnlyList<BatchEntry> batch, IReadOnlyList<ApplyResult> results, SinkVerdict sink, DateTime now)
    {
        NoteSink(sink, results.FirstOrDefault(r => !r.Success).Error);

        // While the sink is down, a failure says nothing about the pk: it waits and is tried again
        // without spending its attempts, so nothing is parked and nothing is acknowledged.
        TimeSpan? hold = sink.Down ? SinkDownBackoff(sink.FailedProbes) : null;
        var acks = new Dictionary<string, List<long>>();
        long applied = 0, failures = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var entry = batch[i];
            var result = results[i];
            var completion = _queue.Complete(entry, result, now, hold);
            if (result.Success)
            {
                applied += result.Stale ? 0 : 1;
            }
            else
            {
                failures++;
                if (completion.DeadLetter is null && entry.Attempt == 1 && !sink.Down)
                {
                    _log.Warning($"{_definition.Name}/{_bucket}: applying {entry.Latest.Change.Schema}.{entry.Latest.Change.Table} pk {entry.Key} failed, will retry: {result.Error}");
                }
            }

            if (completion.DeadLetter is { } letter)
            {
                Park(letter);
                continue;
            }

            foreach (var id in completion.Acknowledge)
            {
                if (!acks.TryGetValue(id.Epoch, out var list))
                {
                    acks[id.Epoch] = list = [];
                }

                list.Add(id.Sequence);
            }
        }

        _counters.AddApplied(applied);
        _counters.AddFailures(failures);
        if (applied > 0) CrashPoints.Get(Context.System).Reached(CrashPoint.AfterApply);
        Acknowledge(acks);
    }

    private static string PkText(BatchEntry entry) => $"{entry.Latest.Change.Schema}.{entry.Latest.Change.Table}:{entry.Key.Canonical}";

    /// <summary>Says once, on the bucket that saw it, that the definition's sink went down or came back.</summary>
    private void NoteSink(SinkVerdict sink, string? error)
    {
        if (sink.Transition == SinkTransition.Down)
        {
            _log.Error(
                $"{_definition.Name}: the sink looks down: {SinkHealth.OutagePks} or more pks failed the same way with no success between (last: {error}). " +
                "Their changes are kept and tried again with backoff without spending their attempts (nothing is dead-lettered), and the offset stays before them; " +
                "the capture stops reading once max-in-flight changes wait. Check the sink and its credentials.");
        }
        else if (sink.Transition == SinkTransition.Up)
        {
            _log.Info($"{_definition.Name}: the sink answers again after {sink.Duration.TotalSeconds:0.#}s down; the changes held meanwhile follow.");
        }
    }

    /// <summary>The wait before trying a pk again while the sink is down: the definition's backoff by failed batches since the outage began, capped at a minute so the sink's return is noticed soon.</summary>
    private TimeSpan SinkDownBackoff(int failedProbes)
    {
        var backoff = _definition.Retry.Backoff(failedProbes, Random.Shared.NextDouble());
        return backoff < MaxParkBackoff ? backoff : MaxParkBackoff;
    }

    private void Park(DeadLetter letter)
    {
        var change = letter.Change;
        _log.Error($"{_definition.Name}/{_bucket}: {change.Schema}.{change.Table} pk {change.Key} failed {letter.Attempts} times and is dead-lettered: {letter.Error}");
        if (_deadLetters is null)
        {
            _counters.AddDeadLettered(1);
            Acknowledge(Group(_queue.FinishParked(letter)));
            return;
        }

        Store(new Parking(letter, ++_parkings, 1));
    }

    /// <summary>
    /// Sends a letter to the store and waits for its confirmation (up to apply-timeout). The
    /// deliveries it answers stay held meanwhile: acknowledged only once the store has it.
    /// </summary>
    private void Store(Parking parking)
    {
        var letter = parking.Letter;
        var parked = DeadLetterBounds.Fit(
            new DeadLetterParked(_definition.Name, _bucket, letter.Change, letter.Error, letter.Attempts, letter.FirstFailure, letter.LastFailure),
            _limits.MaxLetterBytes);
        _deadLetters!.Ask<DeadLetterAccepted>(parked, _definition.ApplyTimeout)
            .PipeTo(Self, success: _ => new ParkDone(parking, null), failure: e => new ParkDone(parking, Describe(e)));
    }

    private void HandleParkDone(ParkDone done)
    {
        var parking = done.Parking;
        if (done.Error is null)
        {
            _counters.AddDeadLettered(1);
            Acknowledge(Group(_queue.FinishParked(parking.Letter)));
            return;
        }

        // Not durably parked: neither dropped nor acknowledged. The write is tried again, with
        // backoff, until the store confirms it; its deliveries stay held here meanwhile.
        var delay = ParkBackoff(parking.Attempt);
        var change = parking.Letter.Change;
        _log.Error(
            $"{_definition.Name}/{_bucket}: storing the dead letter of {change.Schema}.{change.Table} pk {change.Key} failed (attempt {parking.Attempt}: {done.Error}); " +
            $"trying again in {delay.TotalSeconds:0.#}s. Its change stays unacknowledged until the store has it.");
        Timers.StartSingleTimer(ParkTimerPrefix + parking.Id, parking with { Attempt = parking.Attempt + 1 }, delay);
    }

    /// <summary>The wait before storing a letter again: the definition's retry backoff, capped at a minute (the store is infrastructure, not a poison row).</summary>
    private TimeSpan ParkBackoff(int failedAttempts)
    {
        var backoff = _definition.Retry.Backoff(failedAttempts, Random.Shared.NextDouble());
        return backoff < MaxParkBackoff ? backoff : MaxParkBackoff;
    }

    private static Dictionary<string, List<long>> Group(IReadOnlyList<DeliveryId> ids) =>
        ids.GroupBy(id => id.Epoch).ToDictionary(g => g.Key, g => g.Select(id => id.Sequence).ToList());

    private void Acknowledge(Dictionary<string, List<long>> acks)
    {
        foreach (var (epoch, sequences) in acks)
        {
            if (_captures.TryGetValue(epoch, out var capture))
            {
                capture.Tell(new ChangesFinished(_definition.Name, _bucket, epoch, sequences));
                CrashPoints.Get(Context.System).Reached(CrashPoint.AfterAck);
            }
        }
    }

    private void ScheduleRetry()
    {
        if (_queue.NextRetryAt is { } due)
        {
            var delay = due - DateTime.UtcNow;
            Timers.StartSingleTimer(RetryTimer, RetryDue.Instance, delay < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : delay);
        }
    }

    private static string Describe(Exception e) => e switch
    {
        AskTimeoutException => "no answer within apply-timeout",
        TimeoutException or OperationCanceledException => "the job did not finish within apply-timeout",
        AggregateException { InnerException: { } inner } => DeadLetterBounds.Error($"{inner.GetType().Name}: {inner.Message}"),
        _ => DeadLetterBounds.Error($"{e.GetType().Name}: {e.Message}"),
    };

    /// <summary>
    /// Tells every capture that delivered here that the bucket is stopping, with what it holds
    /// unfinished: the capture re-sends that, and whatever else was on its way here, to the next home.
    /// </summary>
    private void Release()
    {
        var held = _queue.HeldDeliveries.ToLookup(id => id.Epoch, id => id.Sequence);
        foreach (var (epoch, capture) in _captures)
        {
            capture.Tell(new DeliveriesReleased(_definition.Name, _bucket, epoch, held[epoch].ToList()));
        }

        Context.Stop(Self);
    }

    protected override void PostStop()
    {
        _counters.AddPending(-_reportedPending);
        _counters.AddEpochs(-_reportedEpochs);
        _reportedPending = _reportedEpochs = 0;
        if (_queue.PendingDeliveries > 0)
        {
            _log.Info("{0}/{1} stopped with {2} deliveries unapplied; the capture will re-deliver them.", _definition.Name, _bucket, _queue.PendingDeliveries);
        }
    }

    /// <summary>An item of a batch to write as its row is now: a retried dead letter, or a change laid over the row read (a partial insert, or one covering a retry).</summary>
    private readonly record struct Reread(int Index, bool Retried);

    private sealed record BatchDone(IReadOnlyList<BatchEntry> Batch, IReadOnlyList<ApplyResult>? Results, Exception? Error, TimeSpan Elapsed) : INoSerializationVerificationNeeded;

    /// <summary>A dead letter on its way to the store: which try this is, and its timer's id.</summary>
    private sealed record Parking(DeadLetter Letter, long Id, int Attempt) : INoSerializationVerificationNeeded;

    private sealed record ParkDone(Parking Parking, string? Error) : INoSerializationVerificationNeeded;

    private sealed record RetryDue : INoSerializationVerificationNeeded
    {
        public static RetryDue Instance { get; } = new();
    }
}
