using System.Globalization;
using System.Diagnostics.Metrics;
using Replicator.Engine;
using Replicator.Engine.Capture;

namespace Replicator.Host.Admin;

/// <summary>The admin endpoint over a running node. It shows no row data except in dead letters, and never a secret.</summary>
internal sealed class NodeAdminBackend : IAdminBackend
{
    private readonly ReplicatorNode _node;

    public NodeAdminBackend(ReplicatorNode node) => _node = node;

    public Meter Meter => _node.Metrics.Meter;

    public async Task<StatusDto> StatusAsync()
    {
        var sources = new List<SourceStatusDto>();
        foreach (var source in _node.Settings.Sources)
        {
            try
            {
                var status = await _node.GetCaptureStatusAsync(source.Name).ConfigureAwait(false);
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

        var definitions = _node.Metrics.Definitions
            .Select(c => new DefinitionStatusDto(
                c.Name, c.Received, c.Applied, c.Coalesced, c.Duplicates, c.StaleRefused, c.Failures, c.DeadLettered,
                c.Sink.IsDown ? "down" : "up", c.Sink.DownSince?.ToString("O", CultureInfo.InvariantCulture), c.Sink.Error))
            .ToList();
        return new StatusDto(sources, definitions);
    }

    public bool HasDefinition(string definition) => _node.Regions.ContainsKey(definition);

    public async Task<DeadLetterPageDto> ListDeadLettersAsync(string definition, int offset, int limit)
    {
        var page = await _node.ListDeadLettersAsync(definition, offset, limit).ConfigureAwait(false);
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

    public async Task<int> RetryDeadLettersAsync(string definition) => (await _node.RetryDeadLettersAsync(definition).ConfigureAwait(false)).Count;

    public async Task<int> PurgeDeadLettersAsync(string definition) => (await _node.PurgeDeadLettersAsync(definition).ConfigureAwait(false)).Count;
}
