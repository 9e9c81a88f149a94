using System.Globalization;
using System.Diagnostics.Metrics;
using Replicator.Engine;
using Replicator.Engine.Capture;

namespace Replicator.Host.Admin;

/// <summary>The admin endpoint over a running node. It shows no row data except in dead letters, and never a secret.</summary>
internal sealed class NodeAdminBackend : IAdminBackend
{
    private readonly Func<ReplicatorNode> _nodeOf;

    public NodeAdminBackend(ReplicatorNode node) => _nodeOf = () => node;

    /// <summary>Over the node <paramref name="node"/> returns when a call comes (the host starts the node before it serves).</summary>
    public NodeAdminBackend(Func<ReplicatorNode> node) => _nodeOf = node;

    private ReplicatorNode Node => _nodeOf();

    public Meter Meter => Node.Metrics.Meter;

    public async Task<StatusDto> StatusAsync()
    {
        var sources = new List<SourceStatusDto>();
        foreach (var source in Node.Settings.Sources)
        {
            try
            {
                var status = await Node.GetCaptureStatusAsync(source.Name).ConfigureAwait(false);
                sources.Add(new SourceStatusDto(
                    source.Name,
                    status.State.Text(),
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

        var definitions = Node.Metrics.Definitions
            .Select(c => new DefinitionStatusDto(
                c.Name, c.Received, c.Applied, c.Coalesced, c.Duplicates, c.StaleRefused, c.Failures, c.DeadLettered,
                c.Sink.IsDown ? "down" : "up", c.Sink.DownSince?.ToString("O", CultureInfo.InvariantCulture), c.Sink.Error))
            .ToList();
        return new StatusDto(sources, definitions);
    }

    public bool HasDefinition(string definition) => Node.Regions.ContainsKey(definition);

    public async Task<DeadLetterPageDto> ListDeadLettersAsync(string definition, int offset, int limit)
    {
        var page = await Node.ListDeadLettersAsync(definition, offset, limit).ConfigureAwait(false);
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

    public async Task<int> RetryDeadLettersAsync(string definition) => (await Node.RetryDeadLettersAsync(definition).ConfigureAwait(false)).Count;

    public async Task<int> PurgeDeadLettersAsync(string definition) => (await Node.PurgeDeadLettersAsync(definition).ConfigureAwait(false)).Count;
}
