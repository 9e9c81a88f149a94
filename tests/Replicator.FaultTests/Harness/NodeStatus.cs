using System.Text.Json;

namespace Replicator.FaultTests.Harness;

/// <summary>What GET /status of a node says about the capture and the definitions (this node's counters).</summary>
public sealed record NodeStatus(
    string CaptureState,
    string? PersistedOffset,
    string? CurrentOffset,
    long ChangesCaptured,
    long Outstanding,
    long Reconnects,
    string? LastError,
    long Received,
    long Applied,
    long Coalesced,
    long Duplicates,
    long StaleRefused,
    long Failures,
    long DeadLettered,
    string Json)
{
    public static NodeStatus Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var source = root.GetProperty("sources")[0];
        var definitions = root.GetProperty("definitions");
        long Sum(string name) => definitions.EnumerateArray().Sum(d => d.TryGetProperty(name, out var v) ? v.GetInt64() : 0);
        string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        long Number(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        return new NodeStatus(
            Text(source, "state") ?? "unknown",
            Text(source, "persisted_offset"),
            Text(source, "current_offset"),
            Number(source, "changes_captured"),
            Number(source, "outstanding"),
            Number(source, "reconnects"),
            Text(source, "last_error"),
            Sum("received"),
            Sum("applied"),
            Sum("coalesced"),
            Sum("duplicates"),
            Sum("stale_refused"),
            Sum("failures"),
            Sum("dead_lettered"),
            json.ReplaceLineEndings(" "));
    }
}
