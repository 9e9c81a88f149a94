using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F3c: kill -STOP the source MariaDB mid-stream for 60 s, then kill -CONT. The server keeps its
/// sockets open and sends nothing, heartbeats included (Maxwell's freeze: a half-open source). The
/// capture must notice within two heartbeat periods (its read timeout), reconnect with backoff
/// while the server stays frozen, and resume from its offset once it answers again, with one
/// binlog reader at any time.
/// </summary>
public sealed class F3SourceFreezeTests(ITestOutputHelper output) : FaultScenario(output)
{
    private static readonly TimeSpan Freeze = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(2);

    [Fact]
    public Task F3c_a_frozen_source_is_detected_within_two_heartbeats_and_ridden_out() =>
        RunAsync(new ScenarioOptions("F3c") { SourceLiveness = (Heartbeat, 2 * Heartbeat) }, async run =>
        {
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes * 3 / 10, workload);

            var frozenAt = DateTime.UtcNow;
            run.Source.Freeze();
            run.FaultInjected($"kill -STOP the source MariaDB for {Freeze.TotalSeconds:0} s");
            try
            {
                await Task.Delay(Freeze);
            }
            finally
            {
                run.Source.Thaw();
            }

            run.FaultHealed("source resumed (kill -CONT)");
            var detected = LogFacts.FirstCaptureFailure(run.Nodes, frozenAt.AddMilliseconds(-5));
            run.Mark(detected is { } d ? $"capture noticed after {(d.At - frozenAt).TotalSeconds:0.0} s: {d.Line}" : "the capture never noticed the freeze");

            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            var detection = detected is { } found ? (found.At - frozenAt).TotalSeconds : (double?)null;
            // Log timestamps have millisecond precision; the read timeout is checked when it expires.
            var detectionBound = (2 * Heartbeat).TotalSeconds + 1;
            var bound = (int)(Freeze.TotalSeconds / 0.5) + 1;
            await ConcludeAsync(
                run,
                verdict,
                (report, failures) =>
                {
                    Expect(failures, detection is not null, "the capture never noticed that the source froze");
                    Expect(failures, detection is null || detection <= detectionBound, $"detection took {detection:0.0} s, more than two heartbeat periods ({(2 * Heartbeat).TotalSeconds:0} s) plus 1 s");
                    Expect(failures, report.ReconnectAttempts <= bound, $"reconnect_attempts = {report.ReconnectAttempts}, more than freeze / min backoff + 1 = {bound}");
                    Expect(failures, report.MembershipChanges == 0, $"membership_changes = {report.MembershipChanges} while only the source froze");
                },
                report =>
                {
                    report.Extra["freeze_s"] = Freeze.TotalSeconds;
                    report.Extra["heartbeat_s"] = Heartbeat.TotalSeconds;
                    if (detection is { } seconds)
                    {
                        report.Extra["detection_s"] = Math.Round(seconds, 1);
                    }

                    report.Extra["reconnect_bound"] = bound;
                });
        });
}
