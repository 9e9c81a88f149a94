using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F3: kill -9 the source MariaDB mid-stream and start it again on the same data 15 s later; F3a:
/// stop it gracefully (SHUTDOWN, which ends its binlog with a STOP event) and start it 20 s later.
/// Either way its binlog moves to a new file. The capture reconnects with backoff and resumes from
/// its offset; the generator's writes that failed meanwhile are resolved by reading the source back.
/// </summary>
public sealed class F3SourceKillTests(ITestOutputHelper output) : FaultScenario(output)
{
    [Fact]
    public Task F3_kill_9_of_the_source_and_a_restart_are_ridden_out_by_reconnecting() =>
        StopSourceAsync("F3", TimeSpan.FromSeconds(15), graceful: false);

    [Fact]
    public Task F3a_a_graceful_stop_of_the_source_and_a_restart_are_ridden_out_by_reconnecting() =>
        StopSourceAsync("F3a", TimeSpan.FromSeconds(20), graceful: true);

    private Task StopSourceAsync(string scenario, TimeSpan pause, bool graceful) =>
        RunAsync(new ScenarioOptions(scenario), async run =>
        {
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes * 3 / 10, workload);

            var before = await run.Source.MasterStatusAsync();
            var killedAt = DateTime.UtcNow;
            if (graceful)
            {
                await run.Source.ShutdownAsync(TimeSpan.FromSeconds(30));
                run.FaultInjected($"SHUTDOWN of the source MariaDB (binlog was at {before.File}:{before.Position}); down after {(DateTime.UtcNow - killedAt).TotalSeconds:0.0} s");
            }
            else
            {
                run.Source.Kill();
                run.FaultInjected($"kill -9 the source MariaDB (binlog at {before.File}:{before.Position})");
            }

            await Task.Delay(pause);
            await run.Source.StartAsync();
            var outage = DateTime.UtcNow - killedAt;
            var after = await run.Source.MasterStatusAsync();
            run.FaultHealed($"source restarted after {outage.TotalSeconds:0.0} s; binlog now {after.File}:{after.Position}");

            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            var minBackoff = 0.5;
            var bound = (int)(outage.TotalSeconds / minBackoff) + 1;
            await ConcludeAsync(
                run,
                verdict,
                (report, failures) =>
                {
                    Expect(failures, report.ReconnectAttempts >= 1, "the capture never noticed that the source died");
                    Expect(failures, report.ReconnectAttempts <= bound, $"reconnect_attempts = {report.ReconnectAttempts}, more than outage / min backoff + 1 = {bound}");
                    Expect(failures, new BinlogPoint(after.File, 0, 0).FileSequence > new BinlogPoint(before.File, 0, 0).FileSequence, $"the binlog did not move to a new file on restart ({before.File} → {after.File})");
                    Expect(failures, report.MembershipChanges == 0, $"membership_changes = {report.MembershipChanges} while only the source failed");
                },
                report =>
                {
                    report.Extra["outage_s"] = Math.Round(outage.TotalSeconds, 1);
                    report.Extra["reconnect_bound"] = bound;
                    report.Extra["binlog_before"] = before.File;
                    report.Extra["binlog_after"] = after.File;
                });
        });
}
