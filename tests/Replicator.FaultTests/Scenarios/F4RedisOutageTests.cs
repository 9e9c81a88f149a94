using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F4: Redis goes away for 30 s mid-stream (SHUTDOWN NOSAVE; the append-only file keeps its data)
/// and comes back; F4b: Redis is frozen (kill -STOP) for 30 s, so writes time out on the client and
/// then run late, after their retries, when it resumes. Applies fail and retry with backoff; the
/// capture holds its offset and backpressures; everything converges once Redis is back, and a late
/// write never overwrites a newer one (the fence). Nothing is dead-lettered: the retry policy
/// outlasts the outage.
/// </summary>
public sealed class F4RedisOutageTests(ITestOutputHelper output) : FaultScenario(output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    [Fact]
    public Task F4_a_30_s_Redis_outage_is_retried_and_the_sink_converges() => RedisOutageAsync("F4", frozen: false);

    [Fact]
    public Task F4b_a_30_s_Redis_freeze_is_retried_and_late_writes_do_not_overwrite_newer_ones() => RedisOutageAsync("F4b", frozen: true);

    private Task RedisOutageAsync(string scenario, bool frozen) =>
        RunAsync(new ScenarioOptions(scenario), async run =>
        {
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes * 3 / 10, workload);

            if (frozen)
            {
                run.Redis.Freeze();
                run.FaultInjected("Redis kill -STOP");
            }
            else
            {
                await run.Redis.ShutdownAsync();
                run.FaultInjected("Redis SHUTDOWN NOSAVE");
            }

            await Task.Delay(Outage);
            var duringOutage = await run.CaptureStatusAsync();
            if (frozen)
            {
                run.Redis.Thaw();
            }
            else
            {
                await run.Redis.StartAsync();
            }

            run.FaultHealed($"Redis {(frozen ? "resumed (kill -CONT)" : "started again")}; capture during the outage: outstanding {duringOutage?.Outstanding}, offset {duringOutage?.CurrentOffset}");

            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            var failures = 0L;
            foreach (var node in run.Nodes)
            {
                failures += (await node.StatusAsync())?.Failures ?? 0;
            }

            await ConcludeAsync(
                run,
                verdict,
                (report, problems) =>
                {
                    Expect(problems, report.DlqEntries == 0, $"dlq_entries = {report.DlqEntries}: the retry policy should outlast a 30 s outage");
                    Expect(problems, failures > 0 || run.Nodes.Any(n => n.Incarnation > 1), "no apply failed while Redis was down: the outage was not exercised");
                    Expect(problems, report.MembershipChanges == 0, $"membership_changes = {report.MembershipChanges} while only Redis failed");
                },
                report =>
                {
                    report.Extra["apply_failures"] = failures;
                    report.Extra["outstanding_during_outage"] = duringOutage?.Outstanding ?? -1;
                });
        });
}
