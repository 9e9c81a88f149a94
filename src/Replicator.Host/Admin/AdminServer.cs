using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Replicator.Engine;

namespace Replicator.Host.Admin;

/// <summary>
/// A small HTTP endpoint on the node: <c>GET /status</c> (JSON: captures and definition counters),
/// <c>GET /metrics</c> (Prometheus text), <c>GET /dead-letters/&lt;definition&gt;</c> and
/// <c>POST /dead-letters/&lt;definition&gt;/retry</c> (apply them again) and
/// <c>POST /dead-letters/&lt;definition&gt;/purge</c>. Bind it to a private address: it has no
/// authentication. It shows no row data except in dead letters, and never a secret.
/// </summary>
internal sealed class AdminServer : IDisposable
{
    private readonly ReplicatorNode _node;
    private readonly AdminListener _listener;

    private AdminServer(ReplicatorNode node, IPEndPoint endpoint)
    {
        _node = node;
        _listener = AdminListener.Start(endpoint, HandleAsync);
    }

    /// <summary>Serves the node on <paramref name="endpoint"/>; throws a <see cref="System.Net.Sockets.SocketException"/> when it cannot be bound.</summary>
    public static AdminServer Start(ReplicatorNode node, IPEndPoint endpoint) => new(node, endpoint);

    private async Task<AdminListener.Response> HandleAsync(AdminListener.Request request)
    {
        try
        {
            var path = request.Path.TrimEnd('/');
            var (status, contentType, body) = path switch
            {
                "/status" => (200, "application/json", await StatusAsync().ConfigureAwait(false)),
                "/metrics" => (200, "text/plain; version=0.0.4", Metrics()),
                _ when path.StartsWith("/dead-letters/", StringComparison.Ordinal) => await DeadLettersAsync(path, request.Method).ConfigureAwait(false),
                _ => (404, "text/plain", "not found\n"),
            };
            return new AdminListener.Response(status, contentType, body);
        }
        catch (Exception e)
        {
            return new AdminListener.Response(500, null, e.GetType().Name + ": " + e.Message + "\n");
        }
    }

    private async Task<string> StatusAsync()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("sources");
            foreach (var source in _node.Settings.Sources)
            {
                w.WriteStartObject();
                w.WriteString("name", source.Name);
                try
                {
                    var status = await _node.GetCaptureStatusAsync(source.Name).ConfigureAwait(false);
                    w.WriteString("state", status.State);
                    w.WriteString("persisted_offset", status.PersistedOffset?.ToString());
                    w.WriteString("current_offset", status.CurrentOffset?.ToString());
                    w.WriteNumber("changes_captured", status.ChangesCaptured);
                    w.WriteNumber("outstanding", status.Outstanding);
                    w.WriteNumber("reconnects", status.Reconnects);
                    w.WriteString("last_error", status.LastError);
                    if (status.LastCommitUtc is { } commit)
                    {
                        w.WriteString("last_commit", commit.ToString("O", CultureInfo.InvariantCulture));
                    }
                }
                catch (Exception e) when (e is TimeoutException or Akka.Actor.AskTimeoutException)
                {
                    w.WriteString("state", "unreachable");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("definitions");
            foreach (var counters in _node.Metrics.Definitions)
            {
                w.WriteStartObject();
                w.WriteString("name", counters.Name);
                w.WriteNumber("received", counters.Received);
                w.WriteNumber("applied", counters.Applied);
                w.WriteNumber("coalesced", counters.Coalesced);
                w.WriteNumber("duplicates", counters.Duplicates);
                w.WriteNumber("stale_refused", counters.StaleRefused);
                w.WriteNumber("failures", counters.Failures);
                w.WriteNumber("dead_lettered", counters.DeadLettered);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private string Metrics()
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

        var definitions = _node.Metrics.Definitions;
        var sources = _node.Metrics.Sources;
        Counter("replicator_changes_captured_total", "Row changes read from the source's binlog.", sources.Select(s => ($"{{source=\"{s.Name}\"}}", s.Captured)));
        Counter("replicator_capture_reconnects_total", "Times the capture reconnected to the source.", sources.Select(s => ($"{{source=\"{s.Name}\"}}", s.Reconnects)));
        Counter("replicator_offset_commits_total", "Offsets persisted.", sources.Select(s => ($"{{source=\"{s.Name}\"}}", s.OffsetCommits)));
        Counter("replicator_changes_received_total", "Deliveries received by buckets on this node.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Received)));
        Counter("replicator_changes_applied_total", "Pk changes applied by jobs on this node.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Applied)));
        Counter("replicator_changes_coalesced_total", "Changes replaced by a newer change of the same pk before being applied.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Coalesced)));
        Counter("replicator_stale_writes_refused_total", "Writes the sink refused as no newer than what it held.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.StaleRefused)));
        Counter("replicator_apply_failures_total", "Failed apply attempts.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.Failures)));
        Counter("replicator_dead_letters_total", "Changes dead-lettered.", definitions.Select(d => ($"{{definition=\"{d.Name}\"}}", d.DeadLettered)));
        return sb.ToString();
    }

    private async Task<(int, string, string)> DeadLettersAsync(string path, string method)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var definition = parts.Length > 1 ? parts[1] : "";
        if (!_node.Regions.ContainsKey(definition))
        {
            return (404, "text/plain", $"no definition named {definition}\n");
        }

        if (parts.Length == 3 && parts[2] == "retry" && method == "POST")
        {
            var retrying = await _node.RetryDeadLettersAsync(definition).ConfigureAwait(false);
            return (200, "application/json", JsonSerializer.Serialize(new { retrying = retrying.Count }));
        }

        if (parts.Length == 3 && parts[2] == "purge" && method == "POST")
        {
            var purged = await _node.PurgeDeadLettersAsync(definition).ConfigureAwait(false);
            return (200, "application/json", JsonSerializer.Serialize(new { purged = purged.Count }));
        }

        var letters = await _node.ListDeadLettersAsync(definition).ConfigureAwait(false);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartArray();
            foreach (var letter in letters.Entries)
            {
                w.WriteStartObject();
                w.WriteString("schema", letter.Change.Schema);
                w.WriteString("table", letter.Change.Table);
                w.WriteString("pk", letter.Change.Key.Canonical);
                w.WriteString("action", letter.Change.Action.ToString().ToLowerInvariant());
                w.WriteString("version", letter.Change.Version.ToString());
                w.WriteString("error", letter.Error);
                w.WriteNumber("attempts", letter.Attempts);
                w.WriteString("first_failure", letter.FirstFailure.ToString("O", CultureInfo.InvariantCulture));
                w.WriteString("last_failure", letter.LastFailure.ToString("O", CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return (200, "application/json", Encoding.UTF8.GetString(stream.ToArray()));
    }

    public void Dispose() => _listener.Dispose();
}
