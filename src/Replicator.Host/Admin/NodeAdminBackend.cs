using System.Globalization;
using System.Text;
using Replicator.Engine;

namespace Replicator.Host.Admin;

/// <summary>The admin endpoint over a running node. It shows no row data except in dead letters, and never a secret.</summary>
internal sealed class NodeAdminBackend(ReplicatorNode node) : IAdminBackend
{
    public async Task<StatusDto> StatusAsync()
    {
        var sources = new List<SourceStatusDto>();
        foreach (var source in node.Settings.Sources)
        {
            try
            {
                var status = await node.GetCaptureStatusAsync(source.Name).ConfigureAwait(false);
                sources.Add(new SourceStatusDto(
                    source.Name,
                    status.State,
                    status.PersistedOffset?.ToString(),
                    status.CurrentOffset?.ToString(),
                    status.ChangesCaptured,
                    status.Outstanding,
                    status.Reconnects,
                    status.LastError,
                    status.LastCommitUtc?.ToString("O", CultureInfo.InvariantCulture),
                    status.PersistedOffset?.Server is { } server ? new SourceServerDto(server.ServerId, server.Uuid, server.Endpoint) : null));
            }
            catch (Exception e) when (e is TimeoutException or Akka.Actor.AskTimeoutException)
            {
                sources.Add(new SourceStatusDto(source.Name, "unreachable"));
            }
        }

        var definitions = node.Metrics.Definitions
            .Select(c => new DefinitionStatusDto(
                c.Name, c.Received, c.Applied, c.Coalesced, c.Duplicates, c.StaleRefused, c.Failures, c.DeadLettered,
                c.Sink.IsDown ? "down" : "up", c.Sink.DownSince?.ToString("O", CultureInfo.InvariantCulture), c.Sink.Error))
            .ToList();
        return new StatusDto(sources, definitions);
    }

    public string Metrics()
    {
        var sb = new StringBuilder();
        void Counter(string name, string help, IEnumerable<(string Label, long Value)> values)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(" counter\n");
            foreach (var (label, value) in values)
            {
                sb.Append(name).Append(label).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        void Gauge(string name, string help, IEnumerable<(string Label, long Value)> values)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(" gauge\n");
            foreach (var (label, value) in values)
            {
                sb.Append(name).Append(label).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        var definitions = node.Metrics.Definitions;
        var sources = node.Metrics.Sources;
        Counter("replicator_changes_captured_total", "Row changes read from the source's binlog.", sources.Select(s => ($"{{source=\"{s.Name}\"}}", s.Captured)));
        Counter("replicator_capture_reconnects_total", "Times the capture reconnected to the source.", sources.Select(s => ($"{{source=\"{s.Name}\"}}", s.Reconnects)));
        Counter("replicator_offset_commits_total", "Offsets persisted.", sources.Select(s => ($"{{source=\"{s.Name}\"}}", s.OffsetCommits)));
        Counter("replicator_changes_received_total", "Deliveries received by buckets on this node.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Received)));
        Counter("replicator_changes_applied_total", "Pk changes applied by jobs on this node.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Applied)));
        Counter("replicator_changes_coalesced_total", "Changes replaced by a newer change of the same pk before being applied.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Coalesced)));
        Counter("replicator_stale_writes_refused_total", "Writes the sink refused as no newer than what it held.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.StaleRefused)));
        Counter("replicator_apply_failures_total", "Failed apply attempts.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Failures)));
        Counter("replicator_dead_letters_total", "Changes dead-lettered.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.DeadLettered)));
        Counter("replicator_sink_outages_total", "Times the definition's sink was taken for down (pks failing the same way).", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Sink.Outages)));
        var now = DateTime.UtcNow;
        Gauge("replicator_capture_oldest_xa_prepare_age_seconds", "Seconds since the source logged the oldest XA PREPARE whose XA COMMIT or ROLLBACK the capture has not read (0 when none): the offset stays before it.", sources.Select(s => ($"{{source=\"{s.Name}\"}}", AgeSeconds(s.OldestPendingPrepareUtc, now))));
        Gauge("replicator_capture_oldest_unfinished_age_seconds", "Seconds since the source committed the oldest transaction the capture has not finished, the one its offset waits on (0 when none).", sources.Select(s => ($"{{source=\"{s.Name}\"}}", AgeSeconds(s.OldestUnfinishedUtc, now))));
        Gauge("replicator_capture_paused_tables", "Tables the capture holds back (unmappable, too large a row, or needing a resync) until they are fixed and the capture restarted.", sources.Select(s => ($"{{source=\"{s.Name}\"}}", s.PausedTables)));
        Gauge("replicator_bucket_pending_deliveries", "Deliveries the definition's buckets on this node hold: waiting, in flight, backing off or being parked.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Pending)));
        Gauge("replicator_bucket_epochs", "Capture incarnations whose finished deliveries the definition's buckets on this node remember (one per live sender and bucket).", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Epochs)));
        Gauge("replicator_sink_down", "1 while the definition's sink counts as down on this node: failed pks are held, not dead-lettered.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Sink.IsDown ? 1L : 0L)));
        return sb.ToString();
    }

    private static long AgeSeconds(DateTime? since, DateTime now) => since is { } at ? Math.Max(0, (long)(now - at).TotalSeconds) : 0;

    public bool HasDefinition(string definition) => node.Regions.ContainsKey(definition);

    public async Task<DeadLetterPageDto> ListDeadLettersAsync(string definition, int offset, int limit)
    {
        var page = await node.ListDeadLettersAsync(definition, offset, limit).ConfigureAwait(false);
        var entries = page.Entries
            .Select(l => new DeadLetterDto(
                l.Change.Schema,
                l.Change.Table,
                l.Change.Key.Canonical,
                l.Change.Action.ToString().ToLowerInvariant(),
                l.Change.Version.ToString(),
                l.Error,
                l.Attempts,
                l.FirstFailure.ToString("O", CultureInfo.InvariantCulture),
                l.LastFailure.ToString("O", CultureInfo.InvariantCulture)))
            .ToList();
        return new DeadLetterPageDto(page.Total, page.Offset, limit, page.Next, entries);
    }

    public async Task<int> RetryDeadLettersAsync(string definition) => (await node.RetryDeadLettersAsync(definition).ConfigureAwait(false)).Count;

    public async Task<int> PurgeDeadLettersAsync(string definition) => (await node.PurgeDeadLettersAsync(definition).ConfigureAwait(false)).Count;
}
