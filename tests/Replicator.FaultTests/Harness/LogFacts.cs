using System.Globalization;
using System.Text.RegularExpressions;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// Figures read from the nodes' logs (run's default text format, Akka's line:
/// <c>[LEVEL][MM/dd/yyyy HH:mm:ss.fffZ][Thread n][source] message</c>): Akka dead letters, capture
/// reconnect attempts, and membership changes (members the leader removed after they were downed).
/// </summary>
public sealed partial record LogFacts(long DeadLetters, long ReconnectAttempts, int MembershipChanges, IReadOnlyList<string> Removals, IReadOnlyList<string> Errors)
{
    /// <summary>Reads every incarnation's log of every node; dead letters count from <paramref name="sinceUtc"/> (cluster start-up sends a few).</summary>
    public static LogFacts Read(IEnumerable<NodeProcess> nodes, DateTime sinceUtc)
    {
        long deadLetters = 0, reconnects = 0;
        var removals = new List<(DateTime At, string Address)>();
        var errors = new List<string>();
        foreach (var (path, at, level, line) in Lines(nodes))
        {
            if (line.Contains("dead letters encountered", StringComparison.Ordinal) && at >= sinceUtc)
            {
                deadLetters++;
            }

            if (IsCaptureFailure(line))
            {
                reconnects++;
            }

            if (Removing().Match(line) is { Success: true } removal)
            {
                removals.Add((at, removal.Groups["address"].Value));
            }

            if (level == "ERROR" && errors.Count < 30)
            {
                errors.Add(Path.GetFileName(path) + ": " + Shorten(line));
            }
        }

        // Every member that sees it may log a removal; one member leaving is one change.
        var changes = new List<string>();
        foreach (var group in removals.OrderBy(r => r.At).GroupBy(r => r.Address))
        {
            DateTime? last = null;
            foreach (var (at, address) in group)
            {
                if (last is null || at - last.Value > TimeSpan.FromSeconds(30))
                {
                    changes.Add($"{at:HH:mm:ss.fff} removed {address}");
                }

                last = at;
            }
        }

        return new LogFacts(deadLetters, reconnects, changes.Count, changes, errors);
    }

    /// <summary>When the capture first gave up on its source connection at or after <paramref name="sinceUtc"/>, and what it said, from every node's logs.</summary>
    public static (DateTime At, string Line)? FirstCaptureFailure(IEnumerable<NodeProcess> nodes, DateTime sinceUtc) =>
        Lines(nodes)
            .Where(l => l.At >= sinceUtc && IsCaptureFailure(l.Line))
            .Select(l => ((DateTime At, string Line)?)(l.At, Shorten(l.Line)))
            .MinBy(l => l!.Value.At);

    /// <summary>The log lines (with a header, whole) of every node and incarnation at or after <paramref name="sinceUtc"/>, each prefixed by its log file's name.</summary>
    public static IEnumerable<string> LinesSince(IEnumerable<NodeProcess> nodes, DateTime sinceUtc) =>
        Lines(nodes).Where(l => l.At >= sinceUtc).Select(l => Path.GetFileName(l.Path) + ": " + l.Line);

    /// <summary>The lines with a log header of every incarnation's log of every node, with their file, time and level.</summary>
    private static IEnumerable<(string Path, DateTime At, string Level, string Line)> Lines(IEnumerable<NodeProcess> nodes)
    {
        foreach (var path in nodes.SelectMany(n => n.AllLogs).Where(File.Exists))
        {
            foreach (var line in NodeProcess.ReadShared(path).Split('\n'))
            {
                var header = Header().Match(line);
                if (header.Success)
                {
                    var at = DateTime.ParseExact(header.Groups["at"].Value, "MM/dd/yyyy HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
                    yield return (path, at, header.Groups["level"].Value, line);
                }
            }
        }
    }

    /// <summary>The capture gave up on its source connection and will retry (one reconnect attempt).</summary>
    private static bool IsCaptureFailure(string line) =>
        line.Contains($"Capture {FaultRun.SourceName}: ", StringComparison.Ordinal) && line.Contains("Retrying in", StringComparison.Ordinal);

    private static string Shorten(string line) => line.Length > 300 ? line[..300] + "…" : line;

    [GeneratedRegex(@"^\s*\[(?<level>[A-Z]+)\]\[(?<at>\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})\d*Z\]")]
    private static partial Regex Header();

    [GeneratedRegex(@"Leader is removing (?:unreachable|exiting|confirmed Exiting|downed)? ?node \[(?<address>[^\]]+)\]")]
    private static partial Regex Removing();
}
