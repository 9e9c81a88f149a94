using System.Globalization;
using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// FO: a fail-over of the source to a promoted replica mid-stream, with <c>resume-by = gtid</c>.
/// The source A has a replica B (GTIDs in strict mode, log-slave-updates) whose binlog files are
/// numbered below A's. Mid-stream, once B has applied all of A, A is killed (-9) and B promoted;
/// the generator goes on writing to B (updates of existing pks above all) and the cluster is
/// restarted (kill -9) pointed at B. The capture resumes from its offset by GTID on B; the
/// version fence must take B's changes as newer than A's (none of them refused), and nothing is lost.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output) : FaultScenario(output)
{
    [Fact]
    public Task FO_a_fail_over_to_a_promoted_replica_resumed_by_gtid_loses_nothing_and_refuses_none_of_its_changes() =>
        RunAsync(new ScenarioOptions("FO") { Replica = true, ResumeBy = "gtid", Changes = 60_000, ChangesPerSecond = 1000 }, async run =>
        {
            var workload = run.RunWorkloadAsync();
            await run.WaitForChangesAsync(run.Options.Changes * 4 / 10, workload);

            var a = run.Source;
            var b = run.Replica!;
            string failoverAt;
            (string File, long Position) aEnd, bEnd;
            long changesBefore;
            using (await run.Workload.PauseAsync())
            {
                failoverAt = await run.WaitForReplicaAsync(TimeSpan.FromSeconds(60));
                aEnd = await a.MasterStatusAsync();
                bEnd = await b.MasterStatusAsync();
                changesBefore = run.Workload.AckedChanges;
                a.Kill();
                await b.ExecuteAsync("STOP SLAVE; RESET SLAVE ALL");
                await run.FailOverToAsync(b);
                run.FaultInjected($"kill -9 the source A (at {aEnd.File}:{aEnd.Position}, gtid {failoverAt}); replica B promoted (at {bEnd.File}:{bEnd.Position}); the generator writes to B");
            }

            await run.RestartClusterAsync(() => Task.CompletedTask);
            var capture = run.CaptureNode();
            var resumedFrom = System.Text.RegularExpressions.Regex.Match(NodeProcess.ReadShared(capture.LogPath), @"Capture src: reading (\S+) from (.+?) \(epoch").Groups;
            run.FaultHealed($"the cluster reads B: {resumedFrom[1].Value} from {resumedFrom[2].Value}");

            await workload;
            var verdict = await QuiesceAndCheckAsync(run);
            var failoverSequence = long.Parse(failoverAt[(failoverAt.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);
            var (refusedOnB, refusedExamples) = RefusedAfter(run, failoverSequence);
            var status = await run.CaptureStatusAsync();
            await ConcludeAsync(
                run,
                verdict,
                (report, failures) =>
                {
                    Expect(failures, new BinlogPoint(bEnd.File, 0, 0).FileSequence < new BinlogPoint(aEnd.File, 0, 0).FileSequence, $"B's binlog ({bEnd.File}) is not numbered below A's ({aEnd.File}): the fail-over does not test versions across servers");
                    Expect(failures, resumedFrom[1].Value.Contains(b.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), $"the capture reads {resumedFrom[1].Value} after the fail-over, not B (port {b.Port})");
                    Expect(failures, run.Workload.AckedChanges - changesBefore >= run.Options.Changes / 2, $"only {run.Workload.AckedChanges - changesBefore} changes were made on B");
                    Expect(failures, refusedOnB == 0, $"{refusedOnB} writes of changes made on B (GTID sequence above {failoverSequence}) were refused as stale: {string.Join("; ", refusedExamples)}");
                    Expect(failures, BinlogPoint.GtidSequence(status?.PersistedOffset) > failoverSequence, $"the persisted offset {status?.PersistedOffset} is not past the fail-over's GTID {failoverAt}");
                    Expect(failures, run.FormerReaders.All(r => r.MaxConcurrent <= 1), $"A had {run.FormerReaders.Max(r => r.MaxConcurrent)} binlog readers at once");
                    Expect(failures, report.MembershipChanges == 0, $"membership_changes = {report.MembershipChanges}");
                },
                report =>
                {
                    report.Extra["failover_gtid"] = failoverAt;
                    report.Extra["a_binlog_at_failover"] = $"{aEnd.File}:{aEnd.Position}";
                    report.Extra["b_binlog_at_failover"] = $"{bEnd.File}:{bEnd.Position}";
                    report.Extra["resumed_from"] = resumedFrom[2].Value;
                    report.Extra["changes_on_b"] = run.Workload.AckedChanges - changesBefore;
                    report.Extra["refused_changes_made_on_b"] = refusedOnB;
                    report.Extra["max_binlog_readers_on_a"] = run.FormerReaders.Max(r => r.MaxConcurrent);
                });
        });

    /// <summary>
    /// Writes the sink refused whose version is a change made after the fail-over: GTID versions
    /// (<c>g</c>, 16 hex digits of rank, 8 of the row) whose rank, the domain-0 sequence here, is above
    /// <paramref name="sequence"/>. Refusals of A's changes replayed after the restart are expected.
    /// </summary>
    private static (long Count, List<string> Examples) RefusedAfter(FaultRun run, long sequence)
    {
        long count = 0;
        var examples = new List<string>();
        foreach (var path in run.Nodes.Select(n => n.LedgerPath).Where(File.Exists))
        {
            foreach (var line in File.ReadLines(path))
            {
                var fields = line.Split('\t');
                if (fields.Length < 6 || fields[4] != "refused")
                {
                    continue;
                }

                var version = fields[1];
                var newer = version.Length == 25 && version[0] == 'g'
                    ? ulong.Parse(version.AsSpan(1, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture) > (ulong)sequence
                    : true; // not a GTID version: the fence cannot order it across servers
                if (newer)
                {
                    count++;
                    if (examples.Count < 5)
                    {
                        examples.Add($"{fields[0]} {version} on {fields[2]}");
                    }
                }
            }
        }

        return (count, examples);
    }
}
