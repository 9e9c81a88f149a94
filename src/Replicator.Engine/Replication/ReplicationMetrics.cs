using System.Collections.Concurrent;
using Akka.Actor;

namespace Replicator.Engine.Replication;

/// <summary>
/// This node's counters per definition and per source, read by the admin endpoint, the demo and
/// tests. Counters only go up; rates come from differences over time.
/// </summary>
public sealed class ReplicationMetrics : IExtension
{
    private readonly ConcurrentDictionary<string, DefinitionCounters> _definitions = new();
    private readonly ConcurrentDictionary<string, SourceCounters> _sources = new();

    public static ReplicationMetrics Get(ActorSystem system) => system.WithExtension<ReplicationMetrics, ReplicationMetricsProvider>();

    public DefinitionCounters Definition(string name) => _definitions.GetOrAdd(name, n => new DefinitionCounters(n));

    public SourceCounters Source(string name) => _sources.GetOrAdd(name, n => new SourceCounters(n));

    public IReadOnlyCollection<DefinitionCounters> Definitions => _definitions.Values.ToList();

    public IReadOnlyCollection<SourceCounters> Sources => _sources.Values.ToList();

    public void StaleWritesRefused(string definition, long count = 1) => Definition(definition).AddStaleRefused(count);
}

public sealed class ReplicationMetricsProvider : ExtensionIdProvider<ReplicationMetrics>
{
    public override ReplicationMetrics CreateExtension(ExtendedActorSystem system) => new();
}

/// <summary>Counters of one definition on this node.</summary>
public sealed class DefinitionCounters(string name)
{
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
}

/// <summary>Counters of one source's capture on this node.</summary>
public sealed class SourceCounters(string name)
{
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

    public void AddReconnect() => Interlocked.Increment(ref _reconnects);

    public void AddOffsetCommit() => Interlocked.Increment(ref _offsetCommits);

    public void SetOldestPendingPrepare(DateTime? at) => Interlocked.Exchange(ref _oldestPendingPrepareTicks, at?.Ticks ?? 0);

    public void SetOldestUnfinished(DateTime? at) => Interlocked.Exchange(ref _oldestUnfinishedTicks, at?.Ticks ?? 0);

    public void SetPausedTables(long count) => Interlocked.Exchange(ref _pausedTables, count);
}
