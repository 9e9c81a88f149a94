using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F1: kill -9 a worker node (one that does not run the capture singleton) mid-stream and start
/// it again after 15 s. SBR downs it; its buckets move; what they held is re-delivered.
/// </summary>
public sealed class F1WorkerKillTests(ITestOutputHelper output) : FaultScenario(output)
{
    [Fact]
    public Task F1_kill_9_of_a_worker_node_mid_stream_loses_nothing_and_the_sink_converges() =>
        RunAsync(new ScenarioOptions("F1"), async run =>
        {
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes / 4, workload);

            var capture = run.CaptureNodeOrNull() ?? throw new InvalidOperationException("no node runs the capture");
            var victim = run.Nodes.Last(n => n != capture && n.Running);
            var appliedByVictim = ApplyLedgerStats.Read([victim.LedgerPath]).Applied;
            victim.Kill();
            run.FaultInjected($"kill -9 {victim.Name} (worker; the capture runs on {capture.Name}); it had applied {appliedByVictim} writes");

            await Task.Delay(TimeSpan.FromSeconds(15));
            victim.Start();
            await run.WaitForAdminAsync(victim, TimeSpan.FromSeconds(90));
            run.FaultHealed($"{victim.Name} restarted");

            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            await ConcludeAsync(
                run,
                verdict,
                (report, failures) =>
                {
                    Expect(failures, appliedByVictim > 0, $"{victim.Name} had applied nothing before it was killed: the kill exercised no buckets");
                    Expect(failures, report.MembershipChanges == 1, $"membership_changes = {report.MembershipChanges}: expected exactly the killed node to be removed, no cascade");
                    Expect(failures, report.TimeToRecoverS is < 30, $"time_to_recover_s = {report.TimeToRecoverS}: the bound with the test SBR settings is 30 s");
                },
                report =>
                {
                    report.Extra["killed"] = victim.Name;
                    report.Extra["applied_by_killed_node_before_kill"] = appliedByVictim;
                });
        });
}
