using System.Globalization;
using System.Text.RegularExpressions;
using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F5: a network partition of the capture's node from the two others, mid-stream, for 30 s, while
/// it still reaches MariaDB and Redis (the worst case, FAULTS.md §4.2). Each node runs in a network
/// namespace the test creates, on its own address; the partition is a pair of prohibit routes in the
/// namespaces. SBR keep-majority must down the minority: its node stops reading the binlog and
/// stops writing to the sink (it leaves, and its process exits) before the capture starts again on
/// the majority; at most one binlog reader at any time; the minority's node comes back as a new
/// incarnation after the heal; nothing is lost.
/// </summary>
public sealed partial class F5PartitionTests(ITestOutputHelper output) : FaultScenario(output)
{
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(30);

    [Fact]
    public Task F5_a_partition_of_the_capture_node_from_the_majority_stops_it_and_moves_the_capture_without_loss() =>
        RunAsync(new ScenarioOptions("F5") { NetworkNamespaces = true, Changes = 60_000, ChangesPerSecond = 1000 }, async run =>
        {
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes * 3 / 10, workload);

            var minority = run.CaptureNode();
            var majority = run.Nodes.Where(n => n != minority).ToList();
            var index = run.Nodes.ToList().IndexOf(minority) + 1;
            var partitionedAt = DateTime.UtcNow;
            await run.Network!.PartitionAsync([index], majority.Select(n => run.Nodes.ToList().IndexOf(n) + 1));
            run.FaultInjected($"partition: {minority.Name} ({minority.Host}, the capture) cut off from {string.Join(", ", majority.Select(n => $"{n.Name} ({n.Host})"))}; the servers stay reachable");

            var exited = await minority.WaitForExitAsync(Hold);
            var downedAfter = DateTime.UtcNow - partitionedAt;
            run.Mark(exited
                ? $"{minority.Name} left and exited {downedAfter.TotalSeconds:0.0} s after the partition (exit code {minority.ExitCode})"
                : $"{minority.Name} still runs {Hold.TotalSeconds:0} s after the partition");
            var next = await run.WaitForCaptureAsync(TimeSpan.FromSeconds(60), notOn: minority);
            var movedAfter = DateTime.UtcNow - partitionedAt;
            var nextStarted = CaptureStartedAt(next) ?? DateTime.UtcNow;
            run.Mark($"capture reading on {next.Name} (started {(nextStarted - partitionedAt).TotalSeconds:0.0} s after the partition)");

            var heal = partitionedAt + Hold - DateTime.UtcNow;
            if (heal > TimeSpan.Zero)
            {
                await Task.Delay(heal);
            }

            await run.Network.HealAsync();
            if (minority.Running)
            {
                minority.Kill();
                run.Mark($"{minority.Name} killed: it had not exited by the heal");
            }

            var restartedAt = DateTime.UtcNow;
            await run.RestartAsync(minority, crash: null);
            run.FaultHealed($"partition healed; {minority.Name} started again as incarnation {minority.Incarnation}");

            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            var lastMinorityWrite = LastWrite(minority, before: restartedAt);
            var oldReader = run.Readers.SeenFrom(minority.Host);
            var newReader = run.Readers.SeenFrom(next.Host);
            await ConcludeAsync(
                run,
                verdict,
                (report, failures) =>
                {
                    Expect(failures, exited, $"{minority.Name}, cut off from the majority, still ran {Hold.TotalSeconds:0} s after the partition: SBR keep-majority did not down it");
                    Expect(failures, majority.Contains(next), $"the capture moved to {next.Name}, not to the majority");
                    Expect(failures, lastMinorityWrite is null || lastMinorityWrite < nextStarted, $"{minority.Name} wrote to the sink at {lastMinorityWrite:HH:mm:ss.fff}, after the capture started on {next.Name} at {nextStarted:HH:mm:ss.fff}: a zombie writer");
                    Expect(failures, oldReader is not null, $"the binlog reader monitor never saw {minority.Name}'s reader (from {minority.Host})");
                    Expect(failures, oldReader is null || newReader is null || oldReader.Value.Last < newReader.Value.First, $"{minority.Name}'s binlog reader was last seen at {oldReader?.Last:HH:mm:ss.fff}, after {next.Name}'s was first seen at {newReader?.First:HH:mm:ss.fff}");
                    Expect(failures, report.MaxBinlogReaders == 1, $"max_binlog_readers = {report.MaxBinlogReaders}");
                    Expect(failures, report.MembershipChanges == 1, $"membership_changes = {report.MembershipChanges}: expected only {minority.Name}'s first incarnation to be removed");
                },
                report =>
                {
                    report.Extra["partitioned"] = minority.Name;
                    report.Extra["time_to_down_s"] = Math.Round(downedAfter.TotalSeconds, 1);
                    report.Extra["capture_moved_after_s"] = Math.Round((nextStarted - partitionedAt).TotalSeconds, 1);
                    report.Extra["capture_seen_reading_after_s"] = Math.Round(movedAfter.TotalSeconds, 1);
                    report.Extra["minority_last_write_after_partition_s"] = lastMinorityWrite is { } w ? Math.Round((w - partitionedAt).TotalSeconds, 1) : -1;
                    report.Extra["old_reader_last_seen_after_partition_s"] = oldReader is { } o ? Math.Round((o.Last - partitionedAt).TotalSeconds, 1) : -1;
                    report.Extra["new_reader_first_seen_after_partition_s"] = newReader is { } r ? Math.Round((r.First - partitionedAt).TotalSeconds, 1) : -1;
                    report.Extra["capture"] = next.Name;
                });
        });

    /// <summary>The time of the last sink write in <paramref name="node"/>'s apply ledger before <paramref name="before"/> (its first incarnation's), or null.</summary>
    private static DateTime? LastWrite(NodeProcess node, DateTime before)
    {
        if (!File.Exists(node.LedgerPath))
        {
            return null;
        }

        var cutoff = new DateTimeOffset(before).ToUnixTimeMilliseconds();
        long? last = null;
        foreach (var line in File.ReadLines(node.LedgerPath))
        {
            var tab = line.LastIndexOf('\t');
            if (tab > 0 && long.TryParse(line.AsSpan(tab + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms < cutoff)
            {
                last = Math.Max(last ?? ms, ms);
            }
        }

        return last is { } l ? DateTimeOffset.FromUnixTimeMilliseconds(l).UtcDateTime : null;
    }

    /// <summary>When the capture's current incarnation on <paramref name="node"/> logged that it started reading.</summary>
    private static DateTime? CaptureStartedAt(NodeProcess node)
    {
        var match = ReadingLine().Match(NodeProcess.ReadShared(node.LogPath));
        return match.Success
            ? DateTime.ParseExact(match.Groups["at"].Value, "MM/dd/yyyy HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal)
            : null;
    }

    [GeneratedRegex(@"\[(?<at>\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})\d*Z\][^\n]*Capture src: reading")]
    private static partial Regex ReadingLine();
}
