using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;

namespace Replicator.Engine.Replication;

/// <summary>
/// This node's counters per definition and per source, read by the admin endpoint, the demo and
/// tests. Counters only go up; rates come from differences over time. The same counters are
/// published as observable instruments of a <see cref="System.Diagnostics.Metrics.Meter"/> named
/// <see cref="MeterName"/> (one per actor system, disposed when it terminates), tagged
/// <c>definition</c> or <c>source</c>, under the names the Prometheus exposition uses.
/// </summary>
public sealed class ReplicationMetrics : IExtension, IDisposable
{
    public const string MeterName = "Replicator";

    /// <summary>Bucket boundaries of the duration histograms: 1 ms to 5 min.</summary>
    private static readonly double[] SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    private readonly ConcurrentDictionary<string, DefinitionCounters> _definitions = new();
    private readonly ConcurrentDictionary<string, SourceCounters> _sources = new();
    private readonly Histogram<double> _applySeconds;
    private readonly Histogram<double> _captureLagSeconds;

    public ReplicationMetrics()
    {
        Meter = new Meter(MeterName);
        _applySeconds = Meter.CreateHistogram(
            "replicator_apply_duration_seconds",
            unit: null,
            description: "Seconds one batch took in its job (rows read back for pk mode included), per definition on this node.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _captureLagSeconds = Meter.CreateHistogram(
            "replicator_capture_lag_seconds",
            unit: null,
            description: "Seconds from a transaction's commit on the source to the capture reading its first change (the server's clock against this node's).",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        SourceCounter("replicator_changes_captured", "Row changes read from the source's binlog.", s => s.Captured);
        SourceCounter("replicator_capture_reconnects", "Times the capture reconnected to the source.", s => s.Reconnects);
        SourceCounter("replicator_offset_commits", "Offsets persisted.", s => s.OffsetCommits);
        DefinitionCounter("replicator_changes_received", "Deliveries received by buckets on this node.", d => d.Received);
        DefinitionCounter("replicator_changes_applied", "Pk changes applied by jobs on this node.", d => d.Applied);
        DefinitionCounter("replicator_changes_coalesced", "Changes replaced by a newer change of the same pk before being applied.", d => d.Coalesced);
        DefinitionCounter("replicator_stale_writes_refused", "Writes the sink refused as no newer than what it held.", d => d.StaleRefused);
        DefinitionCounter("replicator_apply_failures", "Failed apply attempts.", d => d.Failures);
        DefinitionCounter("replicator_dead_letters", "Changes dead-lettered.", d => d.DeadLettered);
        DefinitionCounter("replicator_sink_outages", "Times the definition's sink was taken for down (pks failing the same way).", d => d.Sink.Outages);
        SourceGauge("replicator_capture_oldest_xa_prepare_age_seconds", "Seconds since the source logged the oldest XA PREPARE whose XA COMMIT or ROLLBACK the capture has not read (0 when none): the offset stays before it.", s => AgeSeconds(s.OldestPendingPrepareUtc));
        SourceGauge("replicator_capture_oldest_unfinished_age_seconds", "Seconds since the source committed the oldest transaction the capture has not finished, the one its offset waits on (0 when none).", s => AgeSeconds(s.OldestUnfinishedUtc));
        SourceGauge("replicator_capture_paused_tables", "Tables the capture holds back (unmappable, too large a row, or needing a resync) until they are fixed and the capture restarted.", s => s.PausedTables);
        DefinitionGauge("replicator_bucket_pending_deliveries", "Deliveries the definition's buckets on this node hold: waiting, in flight, backing off or being parked.", d => d.Pending);
        DefinitionGauge("replicator_bucket_epochs", "Capture incarnations whose finished deliveries the definition's buckets on this node remember (one per live sender and bucket).", d => d.Epochs);
        DefinitionGauge("replicator_sink_down", "1 while the definition's sink counts as down on this node: failed pks are held, not dead-lettered.", d => d.Sink.IsDown ? 1L : 0L);
    }

    /// <summary>This node's instruments; a <see cref="MeterListener"/> or an exporter subscribes to it by <see cref="MeterName"/>.</summary>
    public Meter Meter { get; }

    public static ReplicationMetrics Get(ActorSystem system) => system.WithExtension<ReplicationMetrics, ReplicationMetricsProvider>();

    public DefinitionCounters Definition(string name) => _definitions.GetOrAdd(name, n => new DefinitionCounters(n, _applySeconds));

    public SourceCounters Source(string name) => _sources.GetOrAdd(name, n => new SourceCounters(n, _captureLagSeconds));

    public IReadOnlyCollection<DefinitionCounters> Definitions => _definitions.Values.ToList();

    public IReadOnlyCollection<SourceCounters> Sources => _sources.Values.ToList();

    public void StaleWritesRefused(string definition, long count = 1) => Definition(definition).AddStaleRefused(count);

    public void Dispose() => Meter.Dispose();

    /// <summary>Whole seconds since <paramref name="since"/>, 0 when null or in the future.</summary>
    public static long AgeSeconds(DateTime? since) => since is { } at ? Math.Max(0, (long)(DateTime.UtcNow - at).TotalSeconds) : 0;

    private void DefinitionCounter(string name, string help, Func<DefinitionCounters, long> read) =>
        Meter.CreateObservableCounter(name, () => _definitions.Values.Select(d => new Measurement<long>(read(d), new KeyValuePair<string, object?>("definition", d.Name))), description: help);

    private void DefinitionGauge(string name, string help, Func<DefinitionCounters, long> read) =>
        Meter.CreateObservableGauge(name, () => _definitions.Values.Select(d => new Measurement<long>(read(d), new KeyValuePair<string, object?>("definition", d.Name))), description: help);

    private void SourceCounter(string name, string help, Func<SourceCounters, long> read) =>
        Meter.CreateObservableCounter(name, () => _sources.Values.Select(s => new Measurement<long>(read(s), new KeyValuePair<string, object?>("source", s.Name))), description: help);

    private void SourceGauge(string name, string help, Func<SourceCounters, long> read) =>
        Meter.CreateObservableGauge(name, () => _sources.Values.Select(s => new Measurement<long>(read(s), new KeyValuePair<string, object?>("source", s.Name))), description: help);
}

public sealed class ReplicationMetricsProvider : ExtensionIdProvider<ReplicationMetrics>
{
    public override ReplicationMetrics CreateExtension(ExtendedActorSystem system)
    {
        var metrics = new ReplicationMetrics();
        system.RegisterOnTermination(metrics.Dispose);
        return metrics;
    }
}

/// <summary>Counters of one definition on this node.</summary>
public sealed class DefinitionCounters(string name, Histogram<double>? applySeconds = null)
{
    private readonly KeyValuePair<string, object?> _tag = new("definition", name);

    private long _received;
    private long _duplicates;
    private long _coalesced;
    private long _applied;
    private long _staleRefused;
    private long _failures;
    private long _deadLettered;
    private long _batches;
    private long _pending;
    private long _epochs;

    public string Name { get; } = name;

    /// <summary>Deliveries received by buckets (re-deliveries included).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Deliveries ignored because the bucket already held or had finished them.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Changes never applied because a newer change of the same pk replaced them (dedupe savings).</summary>
    public long Coalesced => Interlocked.Read(ref _coalesced);

    /// <summary>Pk changes the job applied.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>Writes the sink refused as no newer than what it held.</summary>
    public long StaleRefused => Interlocked.Read(ref _staleRefused);

    /// <summary>Failed attempts (each will be retried or dead-lettered).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Gauge: deliveries the buckets on this node hold (waiting, in flight, backing off or being parked).</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Gauge: capture incarnations (epochs) whose finished deliveries the buckets on this node remember, summed over buckets.</summary>
    public long Epochs => Interlocked.Read(ref _epochs);

    /// <summary>Whether this definition's sink counts as down on this node (see <see cref="SinkHealth"/>), since when, and why.</summary>
    public SinkHealth Sink { get; } = new();

    public void AddReceived(long n) => Interlocked.Add(ref _received, n);

    public void AddDuplicates(long n) => Interlocked.Add(ref _duplicates, n);

    public void AddCoalesced(long n) => Interlocked.Add(ref _coalesced, n);

    public void AddApplied(long n) => Interlocked.Add(ref _applied, n);

    public void AddStaleRefused(long n) => Interlocked.Add(ref _staleRefused, n);

    public void AddFailures(long n) => Interlocked.Add(ref _failures, n);

    public void AddDeadLettered(long n) => Interlocked.Add(ref _deadLettered, n);

    public void AddBatch() => Interlocked.Increment(ref _batches);

    public void AddPending(long delta) => Interlocked.Add(ref _pending, delta);

    public void AddEpochs(long delta) => Interlocked.Add(ref _epochs, delta);

    /// <summary>Histogram: one batch's time in the job.</summary>
    public void RecordApply(TimeSpan elapsed) => applySeconds?.Record(elapsed.TotalSeconds, _tag);
}

/// <summary>Counters of one source's capture on this node.</summary>
public sealed class SourceCounters(string name, Histogram<double>? captureLagSeconds = null)
{
    private readonly KeyValuePair<string, object?> _tag = new("source", name);

    private long _captured;
    private long _reconnects;
    private long _offsetCommits;
    private long _oldestPendingPrepareTicks;
    private long _oldestUnfinishedTicks;
    private long _pausedTables;

    public string Name { get; } = name;

    /// <summary>Gauge: when the source logged the oldest XA PREPARE whose outcome the capture has not read; null when none is pending.</summary>
    public DateTime? OldestPendingPrepareUtc => Interlocked.Read(ref _oldestPendingPrepareTicks) is var ticks and > 0 ? new DateTime(ticks, DateTimeKind.Utc) : null;

    /// <summary>Gauge: when the source committed the oldest transaction the capture has not finished (the one its offset waits on); null when none.</summary>
    public DateTime? OldestUnfinishedUtc => Interlocked.Read(ref _oldestUnfinishedTicks) is var ticks and > 0 ? new DateTime(ticks, DateTimeKind.Utc) : null;

    /// <summary>Gauge: tables the capture holds back until they are fixed or resynced and the capture restarted.</summary>
    public long PausedTables => Interlocked.Read(ref _pausedTables);

    public long Captured => Interlocked.Read(ref _captured);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    public long OffsetCommits => Interlocked.Read(ref _offsetCommits);

    public void AddCaptured(long n) => Interlocked.Add(ref _captured, n);

    /// <summary>Histogram: how long after its commit on the source a transaction was read (negative clock skew counts as 0).</summary>
    public void RecordCaptureLag(TimeSpan lag) => captureLagSeconds?.Record(Math.Max(0, lag.TotalSeconds), _tag);

    public void AddReconnect() => Interlocked.Increment(ref _reconnects);

    public void AddOffsetCommit() => Interlocked.Increment(ref _offsetCommits);

    public void SetOldestPendingPrepare(DateTime? at) => Interlocked.Exchange(ref _oldestPendingPrepareTicks, at?.Ticks ?? 0);

    public void SetOldestUnfinished(DateTime? at) => Interlocked.Exchange(ref _oldestUnfinishedTicks, at?.Ticks ?? 0);

    public void SetPausedTables(long count) => Interlocked.Exchange(ref _pausedTables, count);
}
