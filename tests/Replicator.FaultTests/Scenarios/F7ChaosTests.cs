using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F7: duplicate, out-of-order and replayed delivery. (a) Every node runs with the test-only chaos
/// stage (replicator.testing.chaos: each change delivered twice with p = 0.2, each bucket's
/// deliveries shuffled within windows of 100). (b) Mid-stream the stored offset is rewound by
/// about 10,000 changes (full cluster restart with the capture's journal entries removed and
/// <c>start</c> set to an older binlog position), so every change since is delivered again, late.
/// The sink's version fence must refuse what is older than what it holds, keep every row at its
/// newest version, and never bring a deleted row back.
/// </summary>
/// <remarks>
/// (a) alone does not reach the fence: a duplicate carries the same delivery id as its original and
/// the bucket drops it by id, and a shuffle inside one delivery is undone by coalescing on the
/// source version (measured: 21,790 duplicates dropped by buckets, 0 writes refused). (b) is what
/// makes old changes arrive after newer ones were applied.
/// </remarks>
public sealed class F7ChaosTests(ITestOutputHelper output) : FaultScenario(output)
{
    [Fact]
    public Task F7_duplicated_and_reordered_deliveries_never_move_the_sink_backwards() =>
        ChaosAsync(new ScenarioOptions("F7") { DuplicateProbability = 0.2, ShuffleWindow = 100 });

    /// <summary>F7pk: F7 with the definition in pk mode: a late, duplicated or replayed change re-reads its row, and must still never write an older one.</summary>
    [Fact]
    public Task F7pk_duplicated_and_reordered_deliveries_in_pk_mode_never_move_the_sink_backwards() =>
        ChaosAsync(new ScenarioOptions("F7pk") { DuplicateProbability = 0.2, ShuffleWindow = 100, Mode = "pk", Changes = 60_000 });

    private Task ChaosAsync(ScenarioOptions options) =>
        RunAsync(options, async run =>
        {
            run.Mark("chaos on from the start: duplicate-probability 0.2, shuffle-window 100");
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes * 3 / 10, workload);
            var rewindTo = await run.Source.MasterStatusAsync();
            var changesAtMark = run.Workload.AckedChanges;
            run.Mark($"rewind point {rewindTo.File}:{rewindTo.Position} after {changesAtMark} changes");
            await run.WaitForChangesAsync(changesAtMark + 10_000, workload);
            var rewound = run.Workload.AckedChanges - changesAtMark;
            await run.RestartClusterAsync(async () =>
            {
                await run.Journal.ExecuteAsync($"DELETE FROM journal.journal WHERE persistence_id = 'capture-{FaultRun.SourceName}'; DELETE FROM journal.snapshot WHERE persistence_id = 'capture-{FaultRun.SourceName}'");
                run.SourceStart = $"{rewindTo.File}:{rewindTo.Position}";
                run.FaultInjected($"capture offset rewound by {rewound} changes to {run.SourceStart}");
            });
            var capture = run.CaptureNodeOrNull();
            var startedFrom = capture is null ? null : System.Text.RegularExpressions.Regex.Match(NodeProcess.ReadShared(capture.LogPath), @"Capture src: reading \S+ from (\S+)").Groups[1].Value;
            run.FaultHealed($"the capture reads again, from {startedFrom}");
            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            long duplicatesSeen = 0, received = 0, applied = 0;
            foreach (var node in run.Nodes)
            {
                if (await node.StatusAsync() is { } status)
                {
                    duplicatesSeen += status.Duplicates;
                    received += status.Received;
                    applied += status.Applied;
                }
            }

            await ConcludeAsync(
                run,
                verdict,
                (report, failures) =>
                {
                    Expect(failures, report.StaleWritesRejected > 0, "stale_writes_rejected = 0: the version fence was never exercised");
                    Expect(failures, report.Stale == 0, $"stale = {report.Stale}");
                    Expect(failures, startedFrom == run.SourceStart, $"after the rewind the capture started from {startedFrom}, not {run.SourceStart}");
                },
                report =>
                {
                    report.Extra["duplicates_seen_by_buckets"] = duplicatesSeen;
                    report.Extra["rewound_changes"] = rewound;
                    report.Extra["coalescing_ratio"] = applied == 0 ? 0 : Math.Round(received / (double)applied, 2);
                });
        });
}
