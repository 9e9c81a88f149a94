using System.Text.RegularExpressions;
using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F2: kill -9 the node running the capture singleton, twice: once mid-stream, and once while a
/// transaction of about 37,000 rows (30,000 inserts of pks nothing writes again, then an update of
/// every other row) is being delivered, once its persisted offset is the transaction's start plus
/// rows already handled. Each time the singleton moves to another node and resumes
/// from the persisted offset; the killed node comes back 15 s later. At most one binlog reader
/// may exist on the source at any moment (polled every 200 ms). F2c: kill it the moment it has
/// read past a ROTATE (FLUSH BINARY LOGS), so the new capture resumes across the file boundary.
/// </summary>
public sealed partial class F2CaptureKillTests(ITestOutputHelper output) : FaultScenario(output)
{
    [Fact]
    public Task F2_kill_9_of_the_capture_node_mid_stream_and_mid_transaction_moves_the_singleton_without_loss() =>
        RunAsync(new ScenarioOptions("F2") { MaxInFlight = 4_000 }, async run =>
        {
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes / 5, workload);

            // (a) Mid-stream.
            var first = run.CaptureNode();
            first.Kill();
            var firstKill = DateTime.UtcNow;
            run.FaultInjected($"kill -9 {first.Name}, which runs the capture");
            var (second, firstFailover, _) = await FailOverAndRestartAsync(run, first, firstKill);

            // (b) Inside a transaction of thousands of rows, once its offset shows rows already handled.
            await run.WaitForChangesAsync(run.Options.Changes * 55 / 100, workload);
            await run.WaitForCatchUpAsync(TimeSpan.FromSeconds(60));
            BinlogPoint? atKill;
            (string File, long Position) txStart;
            int rows;
            DateTime secondKill;
            using (await run.Workload.PauseAsync())
            {
                txStart = await run.Source.MasterStatusAsync();
                rows = await run.Workload.BigTransactionAsync(inserts: 30_000, CancellationToken.None);
                run.Mark($"committed one transaction of {rows} row changes at {txStart.File}:{txStart.Position}");
                atKill = await WaitForOffsetInsideAsync(run, txStart, TimeSpan.FromSeconds(30));
                second.Kill();
                secondKill = DateTime.UtcNow;
                run.FaultInjected($"kill -9 {second.Name}, which runs the capture, with its offset at {atKill?.ToString() ?? "(not seen inside the transaction)"}");
            }

            var (third, secondFailover, resumedFrom) = await FailOverAndRestartAsync(run, second, secondKill);

            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            await ConcludeAsync(
                run,
                verdict,
                (report, failures) =>
                {
                    Expect(failures, atKill is { SkipRows: > 0 }, $"the second kill did not land inside the transaction (offset seen: {atKill?.ToString() ?? "none"}, transaction at {txStart.File}:{txStart.Position})");
                    Expect(failures, resumedFrom is not null && atKill is not null && resumedFrom.Value >= new BinlogPoint(atKill.Value.File, atKill.Value.Position, 0) && (resumedFrom.Value > atKill.Value || resumedFrom.Value.SkipRows >= atKill.Value.SkipRows), $"the new capture resumed from {resumedFrom}, before the offset persisted at the kill ({atKill})");
                    Expect(failures, report.MembershipChanges == 2, $"membership_changes = {report.MembershipChanges}: expected the two killed incarnations to be removed, nothing else");
                    Expect(failures, report.MaxBinlogReaders == 1, $"max_binlog_readers = {report.MaxBinlogReaders}");
                },
                report =>
                {
                    report.Extra["failover_s"] = new[] { Math.Round(firstFailover.TotalSeconds, 1), Math.Round(secondFailover.TotalSeconds, 1) };
                    report.Extra["big_transaction_rows"] = rows;
                    report.Extra["offset_at_kill"] = atKill?.ToString() ?? "";
                    report.Extra["resumed_from"] = resumedFrom?.ToString() ?? "";
                    report.Extra["capture_nodes"] = new[] { first.Name, second.Name, third.Name };
                });
        });

    [Fact]
    public Task F2c_kill_9_of_the_capture_node_right_after_a_rotate_resumes_across_the_file_boundary() =>
        RunAsync(new ScenarioOptions("F2c"), async run =>
        {
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes / 4, workload);

            var first = run.CaptureNode();
            (string File, long Position) before, after;
            BinlogPoint? seen = null;
            DateTime killedAt;
            using (await run.Workload.PauseAsync())
            {
                await run.WaitForCatchUpAsync(TimeSpan.FromSeconds(60));
                before = await run.Source.MasterStatusAsync();
                await run.Source.ExecuteAsync("FLUSH BINARY LOGS");
                after = await run.Source.MasterStatusAsync();

                // Kill the moment the capture reports a position in the new file.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (DateTime.UtcNow < deadline)
                {
                    seen = BinlogPoint.Parse((await run.CaptureStatusAsync())?.CurrentOffset);
                    if (seen?.File == after.File)
                    {
                        break;
                    }

                    await Task.Delay(10);
                }

                first.Kill();
                killedAt = DateTime.UtcNow;
                run.FaultInjected($"kill -9 {first.Name}, which runs the capture, right after the rotation {before.File} -> {after.File} (capture at {seen?.ToString() ?? "?"})");
            }

            var (_, _, resumedFrom) = await FailOverAndRestartAsync(run, first, killedAt);

            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            await ConcludeAsync(
                run,
                verdict,
                (report, failures) =>
                {
                    Expect(failures, seen?.File == after.File, $"the capture never reported a position in {after.File} before the kill (last seen {seen})");
                    Expect(failures, resumedFrom is { } r && (r.File == before.File || r.File == after.File), $"the new capture resumed from {resumedFrom}, neither in {before.File} nor in {after.File}");
                    Expect(failures, report.MembershipChanges == 1, $"membership_changes = {report.MembershipChanges}: expected the killed incarnation to be removed, nothing else");
                    Expect(failures, report.MaxBinlogReaders == 1, $"max_binlog_readers = {report.MaxBinlogReaders}");
                },
                report =>
                {
                    report.Extra["rotation"] = $"{before.File} -> {after.File}";
                    report.Extra["capture_at_kill"] = seen?.ToString() ?? "";
                    report.Extra["resumed_from"] = resumedFrom?.ToString() ?? "";
                });
        });

    /// <summary>
    /// Waits until the capture runs on another node than <paramref name="killed"/>, notes how long
    /// that took and where it resumed, and starts the killed node again 15 s after its kill.
    /// </summary>
    private static async Task<(NodeProcess Capture, TimeSpan Failover, BinlogPoint? ResumedFrom)> FailOverAndRestartAsync(FaultRun run, NodeProcess killed, DateTime killedAt)
    {
        var next = await run.WaitForCaptureAsync(TimeSpan.FromSeconds(60), notOn: killed);
        var failover = DateTime.UtcNow - killedAt;
        var resumedFrom = ResumedFrom(next);
        run.Mark($"capture moved to {next.Name} after {failover.TotalSeconds:0.0} s, resuming from {resumedFrom}");
        await DelayUntil(killedAt + TimeSpan.FromSeconds(15));
        killed.Start();
        await run.WaitForAdminAsync(killed, TimeSpan.FromSeconds(90));
        return (next, failover, resumedFrom);
    }

    /// <summary>Polls the capture until its persisted offset is the transaction's start plus some handled rows.</summary>
    private static async Task<BinlogPoint?> WaitForOffsetInsideAsync(FaultRun run, (string File, long Position) start, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        BinlogPoint? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var status = await run.CaptureStatusAsync();
            if (BinlogPoint.Parse(status?.PersistedOffset) is { } persisted)
            {
                last = persisted;
                if (persisted.File == start.File && persisted.Position == start.Position && persisted.SkipRows > 0)
                {
                    return persisted;
                }

                if (persisted > new BinlogPoint(start.File, start.Position, 0))
                {
                    return persisted; // the whole transaction is already settled: too late
                }
            }

            await Task.Delay(50);
        }

        return last;
    }

    /// <summary>The offset the capture's current incarnation said it resumed from ("Capture src: reading … from X (epoch …)").</summary>
    private static BinlogPoint? ResumedFrom(NodeProcess node)
    {
        var matches = ReadingFrom().Matches(NodeProcess.ReadShared(node.LogPath));
        return matches.Count == 0 ? null : BinlogPoint.Parse(matches[^1].Groups["from"].Value);
    }

    private static async Task DelayUntil(DateTime at)
    {
        var wait = at - DateTime.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    [GeneratedRegex(@"Capture src: reading \S+ from (?<from>.+?) \(epoch")]
    private static partial Regex ReadingFrom();
}
