using System.Globalization;
using System.Text.RegularExpressions;
using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F15: the journal's MariaDB (the second server, holding the Akka journal of the capture's offsets
/// and of the dead-letter stores) frozen with kill -STOP for 30 s mid-stream, then kill -CONT.
/// Persists hang and time out (or fail fast once the journal's circuit breaker opens); the capture
/// and dead-letter store stop on the failure and their back-off supervisor starts them again. While
/// the journal is frozen the persisted offset must not move (nothing can be persisted), a few poison
/// pks are dead-lettered (the store cannot write: the buckets keep their changes and try again);
/// once the journal answers again the capture resumes from its persisted offset (never from less,
/// as a recovery that read nothing and started at the binlog's end would), the letters are stored,
/// there is no duplicate-key crash loop, and the sink converges.
/// </summary>
/// <remarks>
/// While a persist is pending the capture stashes every command, its status requests included, and
/// while its recovery hangs it does not answer either: the status mostly has no offset to show during
/// the freeze (measured: the first persist timed out after 10 s, the recovery failed 16 s later).
/// </remarks>
public sealed partial class F15JournalFreezeTests(ITestOutputHelper output) : FaultScenario(output)
{
    private static readonly TimeSpan Freeze = TimeSpan.FromSeconds(30);

    private static readonly long[] Poison = PoisonPks.Take(5);

    [Fact]
    public Task F15_a_frozen_journal_holds_the_offset_and_the_capture_and_dead_letter_store_recover() =>
        RunAsync(
            new ScenarioOptions("F15") { Changes = 60_000, ChangesPerSecond = 1000, Retry = (TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), 5) },
            async run =>
            {
                run.Workload.Freeze(Poison);
                var workload = run.RunWorkloadAsync();
                await run.WaitForChangesAsync(run.Options.Changes * 3 / 10, workload);

                var before = await run.CaptureStatusAsync();
                var frozenAt = DateTime.UtcNow;
                run.Journal.Freeze();
                run.FaultInjected($"kill -STOP the journal's MariaDB for {Freeze.TotalSeconds:0} s (persisted offset {before?.PersistedOffset})");

                // Sample the persisted offset while the journal is frozen; write the poison pks 5 s in,
                // so that their dead letters come due while the store cannot persist them.
                var persistedDuringFreeze = new List<string>();
                var poisoned = false;
                try
                {
                    while (DateTime.UtcNow - frozenAt < Freeze)
                    {
                        if (!poisoned && DateTime.UtcNow - frozenAt > TimeSpan.FromSeconds(5))
                        {
                            await run.Workload.TouchAsync(Poison, CancellationToken.None);
                            run.Mark($"poison pks {string.Join(", ", Poison)} written");
                            poisoned = true;
                        }

                        // A commit answered just before the freeze may still land in its first second.
                        if (DateTime.UtcNow - frozenAt > TimeSpan.FromSeconds(1) && (await run.CaptureStatusAsync())?.PersistedOffset is { } persisted)
                        {
                            persistedDuringFreeze.Add(persisted);
                        }

                        await Task.Delay(500);
                    }
                }
                finally
                {
                    run.Journal.Thaw();
                }

                var thawedAt = DateTime.UtcNow;
                run.FaultHealed($"journal resumed (kill -CONT); persisted offsets seen while frozen: {string.Join(", ", persistedDuringFreeze.Distinct())}");
                var persistFailures = LogLinesSince(run, frozenAt, "Failed to persist event", "Persistence failure when replaying", "Circuit Breaker is open");
                run.Mark($"journal failures logged during the freeze: {persistFailures.Count}; first: {persistFailures.FirstOrDefault()?[..Math.Min(300, persistFailures[0].Length)]}");

                // The dead-letter store answers again and holds the letters parked while it was frozen.
                var letters = await Eventually.UntilAsync(() => DeadLettersOrEmptyAsync(run), l => l.Count == Poison.Length, TimeSpan.FromSeconds(120));
                var storedAfter = DateTime.UtcNow - thawedAt;
                run.Mark($"{letters.Count} dead letters stored {storedAfter.TotalSeconds:0.0} s after the thaw ({string.Join(", ", letters.Select(l => l.Pk))})");

                await workload;
                var parked = await QuiesceAndCheckAsync(run);
                var mismatchedBefore = parked.Check.Comparison.MismatchedPks;
                var (remaining, _) = await PoisonPks.RepairAndRetryAsync(run, Poison);
                var verdict = await QuiesceAndCheckAsync(run);
                var quiescent = DateTime.UtcNow;
                var duplicates = LogLinesSince(run, frozenAt, "Duplicate entry");
                var restarts = CaptureStarts(run, thawedAt + TimeSpan.FromSeconds(60));
                var persistedBefore = BinlogPoint.Parse(before?.PersistedOffset);
                var resumes = LogFacts.LinesSince(run.Nodes, frozenAt).Select(l => ReadingFrom().Match(l)).Where(m => m.Success).Select(m => BinlogPoint.Parse(m.Groups["from"].Value)).ToList();
                await ConcludeAsync(
                    run,
                    verdict,
                    (report, failures) =>
                    {
                        Expect(failures, resumes.Count > 0, "no capture started reading after the freeze");
                        Expect(failures, persistedBefore is not null && resumes.All(r => r is { } p && p >= persistedBefore.Value), $"the capture resumed from [{string.Join(", ", resumes)}] after the freeze, not at or past the offset persisted before it ({persistedBefore})");
                        Expect(failures, persistedDuringFreeze.Distinct().Count() <= 1, $"the persisted offset moved while the journal was frozen: {string.Join(", ", persistedDuringFreeze.Distinct())}");
                        Expect(failures, persistFailures.Count > 0, "no persist failed while the journal was frozen: the freeze was not exercised");
                        Expect(failures, letters.Select(l => long.Parse(l.Pk, CultureInfo.InvariantCulture)).ToHashSet().SetEquals(Poison), $"the store holds [{string.Join(", ", letters.Select(l => l.Pk))}] after the thaw, not the poison set");
                        Expect(failures, mismatchedBefore.All(Poison.Contains), $"before the repair, pks outside the poison set did not match: {string.Join(", ", mismatchedBefore.Where(pk => !Poison.Contains(pk)))}");
                        Expect(failures, remaining == 0, $"{remaining} dead letters remain 60 s after the retry");
                        Expect(failures, restarts == 0, $"the capture started {restarts} times more than 60 s after the thaw: a crash loop");
                        Expect(failures, report.MembershipChanges == 0, $"membership_changes = {report.MembershipChanges} while only the journal froze");
                    },
                    report =>
                    {
                        report.Extra["freeze_s"] = Freeze.TotalSeconds;
                        report.Extra["journal_failures_logged"] = persistFailures.Count;
                        report.Extra["journal_duplicate_key_errors"] = duplicates.Count;
                        report.Extra["capture_starts_after_the_thaw"] = CaptureStarts(run, thawedAt);
                        report.Extra["dead_letters_stored_after_thaw_s"] = Math.Round(storedAfter.TotalSeconds, 1);
                        report.Extra["persisted_offset_during_freeze"] = persistedDuringFreeze.Distinct().ToList();
                        report.Extra["persisted_before_freeze"] = persistedBefore?.ToString() ?? "";
                        report.Extra["resumed_from"] = resumes.Select(r => r?.ToString() ?? "?").ToList();
                    });
            },
            beforeNodes: run => PoisonPks.PoisonAsync(run, Poison));

    /// <summary>GET /dead-letters, or nothing while the store does not answer.</summary>
    private static async Task<List<(string Pk, int Attempts, string Error)>> DeadLettersOrEmptyAsync(FaultRun run)
    {
        try
        {
            return await run.DeadLettersAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return [];
        }
    }

    /// <summary>Log lines (every node, every incarnation) at or after <paramref name="sinceUtc"/> that contain any of <paramref name="needles"/>.</summary>
    private static List<string> LogLinesSince(FaultRun run, DateTime sinceUtc, params string[] needles) =>
        [.. LogFacts.LinesSince(run.Nodes, sinceUtc).Where(l => needles.Any(n => l.Contains(n, StringComparison.Ordinal)))];

    [GeneratedRegex(@"Capture src: reading \S+ from (?<from>.+?) \(epoch")]
    private static partial Regex ReadingFrom();

    /// <summary>How often a capture started reading at or after <paramref name="sinceUtc"/>.</summary>
    private static int CaptureStarts(FaultRun run, DateTime sinceUtc) =>
        LogFacts.LinesSince(run.Nodes, sinceUtc).Count(l => l.Contains($"Capture {FaultRun.SourceName}: reading", StringComparison.Ordinal));
}
