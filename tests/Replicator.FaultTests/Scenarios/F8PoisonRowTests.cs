using System.Globalization;
using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// F8: a poison row the sink rejects. Before the nodes start, 20 known pks are made unwritable in
/// Redis; with a small retry policy (5 attempts, 200 ms doubling to 2 s) their changes are
/// dead-lettered while every other pk keeps flowing and the capture's offset moves past them.
/// Then the keys are repaired and POST /dead-letters/cache/retry applies the parked changes: the
/// dead-letter store empties and the sink equals the source.
/// </summary>
/// <remarks>
/// The poison is FAULTS.md's recipe, <c>SET &lt;prefix&gt;src:t:&lt;pk&gt; "str"</c>: the job holds no
/// version for such a key, so it is not its own, and it neither replaces nor deletes it. HSET and
/// HDEL meet WRONGTYPE, for every change of the pk, writes and deletes alike.
/// </remarks>
public sealed class F8PoisonRowTests(ITestOutputHelper output) : FaultScenario(output)
{
    private static readonly long[] Poison = [.. Enumerable.Range(0, 20).Select(i => 2000L + (i * 397))];

    [Fact]
    public Task F8_poison_rows_are_dead_lettered_without_blocking_others_and_a_dead_letter_retry_repairs_them() =>
        RunAsync(
            new ScenarioOptions("F8") { Retry = (TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), 5) },
            async run =>
            {
                run.FaultInjected($"{Poison.Length} pks poisoned in Redis before the start");
                await run.Workload.TouchAsync(Poison, CancellationToken.None);
                var workload = run.RunWorkloadAsync();
                await workload;

                // The poison pks are parked and the offset moved past them: quiescence is reached with them unapplied.
                var parked = await QuiesceAndCheckAsync(run);
                var letters = await run.DeadLettersAsync();
                var parkedPks = letters.Select(l => long.Parse(l.Pk, CultureInfo.InvariantCulture)).ToHashSet();
                var mismatchedBefore = parked.Check.Comparison.MismatchedPks;
                var lostBefore = parked.Check.EventsLost;
                run.Mark($"before repair: {letters.Count} dead letters ({string.Join(", ", letters.Select(l => $"{l.Pk}×{l.Attempts}"))}); mismatched pks {string.Join(", ", mismatchedBefore.Order())}; first error: {letters.FirstOrDefault().Error}");

                var redis = await run.Redis.ClientAsync();
                var database = redis.GetDatabase();
                foreach (var pk in Poison)
                {
                    await database.KeyDeleteAsync([$"{run.Options.KeyPrefix}src:t:{pk}", $"{run.Options.KeyPrefix}_v:src:t:{pk}"]);
                }

                var retry = await run.Nodes.First(n => n.Running).PostAsync($"/dead-letters/{FaultRun.Definition}/retry");
                var retried = DateTime.UtcNow;
                run.Mark($"poison keys deleted; POST /dead-letters/{FaultRun.Definition}/retry: {retry.Trim()}");
                var remaining = await Eventually.UntilAsync(run.DeadLettersAsync, l => l.Count == 0, TimeSpan.FromSeconds(60));
                var drained = DateTime.UtcNow - retried;
                run.Mark($"{remaining.Count} dead letters left after {drained.TotalSeconds:0.0} s");
                var verdict = await QuiesceAndCheckAsync(run);
                await ConcludeAsync(
                    run,
                    verdict,
                    (report, failures) =>
                    {
                        Expect(failures, parkedPks.SetEquals(Poison), $"the dead letters are pks [{string.Join(", ", parkedPks.Order())}], not exactly the poison set [{string.Join(", ", Poison)}]");
                        Expect(failures, letters.Count == Poison.Length, $"{letters.Count} dead-letter entries for {Poison.Length} poison pks");
                        Expect(failures, letters.All(l => l.Attempts == 5), $"attempts per dead letter: {string.Join(", ", letters.Select(l => l.Attempts))}; the policy allows 5");
                        Expect(failures, mismatchedBefore.All(Poison.Contains), $"before the repair, pks outside the poison set did not match: {string.Join(", ", mismatchedBefore.Where(pk => !Poison.Contains(pk)))}");
                        Expect(failures, remaining.Count == 0, $"{remaining.Count} dead letters remain 60 s after the retry");
                    },
                    report =>
                    {
                        report.DlqEntries = letters.Count;
                        report.TimeToRecoverS = Math.Round(drained.TotalSeconds, 1);
                        report.Extra["dlq_after_retry"] = remaining.Count;
                        report.Extra["pks_mismatched_before_repair"] = mismatchedBefore.Count;
                        report.Extra["events_unapplied_before_repair"] = lostBefore;
                        report.Extra["poison_pks"] = Poison;
                        report.Extra["retry_response"] = retry.Trim();
                    });
            },
            beforeNodes: async run =>
            {
                var database = (await run.Redis.ClientAsync()).GetDatabase();
                foreach (var pk in Poison)
                {
                    await database.StringSetAsync($"{run.Options.KeyPrefix}src:t:{pk}", "str");
                }
            });
}
