using System.Globalization;
using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// CP: a node exits at once (replicator.testing.crash-at: an abort, no graceful shutdown, no flush)
/// at each of the five crash points in turn, under load, in one cluster, as MySQL's replica
/// crash-safety tests do. The nodes boot in order, so the singletons (capture and dead-letter
/// store) run on node1, then node2, then node3 as each crashes:
/// <list type="number">
/// <item>node1, the capture, crashes just before persisting an offset (before-persist);</item>
/// <item>node2, the capture next, crashes just after persisting one (after-persist);</item>
/// <item>node3, the capture and dead-letter store next, crashes the moment the store has persisted
/// a letter and before it tells the bucket (after-dead-letter; a few pks are poisoned in Redis as in
/// F8, and written only when node3 runs the store);</item>
/// <item>node3 comes back configured to crash after its 30th successful batch, before it
/// acknowledges it (after-apply), once rebalancing has given it buckets;</item>
/// <item>and again right after it sent its 30th acknowledgement (after-ack).</item>
/// </list>
/// Each crashed node is started again at once (clean, or with the next point). At the end the
/// poison keys are repaired and the dead letters retried: nothing may be lost.
/// </summary>
public sealed class CrashPointTests(ITestOutputHelper output) : FaultScenario(output)
{
    /// <summary>Pks the generator never writes, poisoned in Redis before the start.</summary>
    private static readonly long[] Poison = PoisonPks.Take(8);

    private static readonly TimeSpan CrashBound = TimeSpan.FromSeconds(120);

    [Fact]
    public Task CP_a_node_crashing_at_each_crash_point_under_load_loses_nothing() =>
        RunAsync(
            new ScenarioOptions("CP")
            {
                Changes = 20_000,
                ChangesPerSecond = 600,
                BootInOrder = true,
                Retry = (TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), 5),
                CrashAtBoot = new Dictionary<string, NodeCrash>
                {
                    // The capture persists at most every offset-commit-interval (500 ms) while changes
                    // flow: the 40th persist is 20 s or more into its reading, time for the node that
                    // crashed before to be back, so two nodes are never down at once.
                    ["node1"] = new("before-persist", 20),
                    ["node2"] = new("after-persist", 40),
                    ["node3"] = new("after-dead-letter", 1),
                },
            },
            async run =>
            {
                var (node1, node2, node3) = (run.Nodes[0], run.Nodes[1], run.Nodes[2]);
                var crashes = new List<string>();
                var failures = new List<string>();
                Expect(failures, run.CaptureNode() == node1, $"the capture started on {run.CaptureNode().Name}, not on the oldest node, node1");
                run.Workload.Freeze(Poison);
                var workload = run.RunWorkloadUntilStoppedAsync();

                // 1. before-persist on node1, the capture; the singletons move to node2.
                var next = await CrashAsync(run, node1, "before-persist", crashes, restartWith: null, captureMoves: true);
                Expect(failures, next == node2, $"after node1 the capture went to {next.Name}, not node2");

                // 2. after-persist on node2; the singletons move to node3.
                next = await CrashAsync(run, node2, "after-persist", crashes, restartWith: null, captureMoves: true);
                Expect(failures, next == node3, $"after node2 the capture went to {next.Name}, not node3");

                // 3. after-dead-letter on node3, which now runs the dead-letter store: the poison pks are
                // written now, are dead-lettered after 5 attempts, and the store crashes on the first.
                // Their retries hold the capture's offset for seconds by design: the recovery from
                // node2's crash is measured up to here.
                run.FaultArming("the poison pks are written");
                await run.Workload.TouchAsync(Poison, CancellationToken.None);
                run.Mark($"poison pks {string.Join(", ", Poison)} written");
                next = await CrashAsync(run, node3, "after-dead-letter", crashes, restartWith: new NodeCrash("after-apply", 30), captureMoves: true);
                Expect(failures, next == node1, $"after node3 the capture went to {next.Name}, not node1");

                // 4, 5. after-apply and after-ack on node3, a worker now (buckets come to it by rebalancing).
                await CrashAsync(run, node3, "after-apply", crashes, restartWith: new NodeCrash("after-ack", 30), captureMoves: false);
                await CrashAsync(run, node3, "after-ack", crashes, restartWith: null, captureMoves: false);

                // Some load after the last crash, then stop; the poison pks are written once more so the
                // store (now on node1) holds a letter for each.
                await run.WaitForChangesAsync(Math.Max(run.Options.Changes, run.Workload.AckedChanges + 3_000), workload);
                await run.Workload.TouchAsync(Poison, CancellationToken.None);
                run.Workload.Stop();
                await workload;

                var parked = await QuiesceAndCheckAsync(run);
                var letters = await run.DeadLettersAsync();
                var parkedPks = letters.Select(l => long.Parse(l.Pk, CultureInfo.InvariantCulture)).ToHashSet();
                var mismatchedBefore = parked.Check.Comparison.MismatchedPks;
                run.Mark($"before repair: {letters.Count} dead letters ({string.Join(", ", letters.Select(l => $"{l.Pk}×{l.Attempts}"))}); mismatched pks {string.Join(", ", mismatchedBefore.Order())}");

                var (remaining, _) = await PoisonPks.RepairAndRetryAsync(run, Poison);
                var verdict = await QuiesceAndCheckAsync(run);
                await ConcludeAsync(
                    run,
                    verdict,
                    (report, problems) =>
                    {
                        problems.AddRange(failures);
                        Expect(problems, crashes.Count == 5, $"{crashes.Count} of the 5 crash points were reached: {string.Join("; ", crashes)}");
                        Expect(problems, parkedPks.SetEquals(Poison), $"the dead letters before the repair are pks [{string.Join(", ", parkedPks.Order())}], not exactly the poison set");
                        Expect(problems, mismatchedBefore.All(Poison.Contains), $"before the repair, pks outside the poison set did not match: {string.Join(", ", mismatchedBefore.Where(pk => !Poison.Contains(pk)))}");
                        Expect(problems, remaining == 0, $"{remaining} dead letters remain 60 s after the retry");
                        Expect(problems, report.TimeToRecoverS is not null, "time_to_recover_s = null: the capture lag did not come back under 1.5 s after every crash");
                        Expect(problems, report.MembershipChanges <= 5, $"membership_changes = {report.MembershipChanges}: more than the 5 crashed incarnations were removed");
                    },
                    report =>
                    {
                        report.Extra["crashes"] = crashes;
                        report.Extra["dlq_before_repair"] = letters.Count;
                        report.Extra["poison_pks"] = Poison;
                    });
            },
            beforeNodes: run => PoisonPks.PoisonAsync(run, Poison));

    /// <summary>
    /// Waits until <paramref name="victim"/> exits at <paramref name="point"/> on its own, starts it
    /// again at once (with <paramref name="restartWith"/>), and, when it ran the capture, waits until
    /// the capture reads on another node. Returns the node that runs the capture then.
    /// </summary>
    private static async Task<NodeProcess> CrashAsync(FaultRun run, NodeProcess victim, string point, List<string> crashes, NodeCrash? restartWith, bool captureMoves)
    {
        if (!victim.Running)
        {
            throw new InvalidOperationException($"{victim.Name} (crash-at = {point}) had already exited before the node that crashed before it was back: two nodes were down at once. Its log:\n{Tools.Tail(victim.LogPath, 20)}");
        }

        var armed = DateTime.UtcNow;
        var appliedBefore = ApplyLedgerStats.Read([victim.LedgerPath]).Applied;
        if (!await victim.WaitForExitAsync(CrashBound))
        {
            throw new TimeoutException($"{victim.Name} (crash-at = {point}) was still running {CrashBound.TotalSeconds:0} s later: the point was never reached");
        }

        var exitCode = victim.ExitCode;
        var logged = victim.LogShowsCrashAt(point);
        run.FaultInjected($"{victim.Name} crashed at {point} ({(DateTime.UtcNow - armed).TotalSeconds:0.0} s after it was armed, exit code {exitCode}, {ApplyLedgerStats.Read([victim.LedgerPath]).Applied - appliedBefore} writes applied meanwhile)");
        if (!logged)
        {
            throw new InvalidOperationException($"{victim.Name} exited (code {exitCode}) without the crash-at {point} message:\n{Tools.Tail(victim.LogPath, 30)}");
        }

        crashes.Add($"{victim.Name}@{point}");
        await run.RestartAsync(victim, restartWith);
        var capture = captureMoves ? await run.WaitForCaptureAsync(TimeSpan.FromSeconds(90), notOn: victim) : run.CaptureNode();
        run.FaultHealed($"{victim.Name} up again{(restartWith is null ? "" : $" with crash-at = {restartWith.Point} #{restartWith.Occurrence}")}; the capture reads on {capture.Name}");

        // Each crash is recovered from (the capture lag back under 1.5 s) before the next is armed, so each has its time to recover.
        await run.WaitForCatchUpAsync(TimeSpan.FromSeconds(60));
        return capture;
    }
}
