using Replicator.FaultTests.Harness;
using Xunit.Abstractions;

namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// What every scenario shares: start the world, run the workload with the scenario's fault, then
/// quiesce, check, report, and assert the invariants of FAULTS.md §4.4 (events_lost = 0,
/// pks_mismatched = 0, resurrected = 0, at most one binlog reader at any time) plus the
/// scenario's own. The report is printed as one JSON line and saved to artifacts/ even when an
/// assertion fails; a failure message carries the report, the timeline and the nodes' log tails.
/// </summary>
[Collection(FaultCollection.Name)]
public abstract class FaultScenario(ITestOutputHelper output)
{
    protected ITestOutputHelper Output { get; } = output;

    /// <summary>Starts the scenario's world, runs <paramref name="body"/> on it, and fails with diagnostics if anything throws.</summary>
    protected async Task RunAsync(ScenarioOptions options, Func<FaultRun, Task> body, Func<FaultRun, Task>? beforeNodes = null)
    {
        await using var run = await FaultRun.StartAsync(options, Output, beforeNodes);
        try
        {
            await body(run);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            new FaultReport { Scenario = options.Scenario, Seed = options.Seed, AckedChanges = run.Workload.AckedChanges, WallS = Math.Round(run.Elapsed.TotalSeconds, 1), Result = "error: " + e.GetType().Name }.Save();
            throw new InvalidOperationException($"{options.Scenario} failed: {e.Message}\n{run.Diagnostics()}", e);
        }
    }

    /// <summary>Quiescence and the checker, after the workload is done.</summary>
    protected static async Task<Verdict> QuiesceAndCheckAsync(FaultRun run)
    {
        var quiesce = await run.QuiesceAsync();
        var quiescentUtc = DateTime.UtcNow;
        var check = await run.CheckAsync();
        return new Verdict(check, quiesce, quiescentUtc);
    }

    /// <summary>
    /// Builds and saves the report, then asserts the common invariants and <paramref name="scenarioChecks"/>
    /// (which add a message per violated expectation).
    /// </summary>
    protected async Task<FaultReport> ConcludeAsync(FaultRun run, Verdict verdict, Action<FaultReport, List<string>>? scenarioChecks = null, Action<FaultReport>? addFigures = null)
    {
        var report = await run.ReportAsync(verdict.Check, verdict.Quiesce, verdict.QuiescentUtc, run.ReadyUtc);
        addFigures?.Invoke(report);
        var failures = new List<string>();
        Expect(failures, report.EventsLost == 0, $"events_lost = {report.EventsLost}: acknowledged changes are not reflected in the sink");
        Expect(failures, report.PksMismatched == 0, $"pks_mismatched = {report.PksMismatched}: {verdict.Check.Comparison}");
        Expect(failures, report.Resurrected == 0, $"resurrected = {report.Resurrected}");
        Expect(failures, verdict.Check.ReplicatorCheck.Matches, $"`replicator check` disagrees: {verdict.Check.ReplicatorCheck}");
        Expect(failures, report.MaxBinlogReaders <= 1, $"{report.MaxBinlogReaders} binlog readers at once: {string.Join(" | ", run.Readers.Violations)}");
        Expect(failures, run.Readers.Polls > 0, "the binlog reader monitor never got an answer from the source");
        Expect(failures, run.Readers.LastCount == 1, $"{run.Readers.LastCount} binlog readers on the source at the end, not exactly one");
        Expect(failures, report.SecretLeaks == 0, $"secret_leaks = {report.SecretLeaks}: a canary password appears in a node's log");
        Expect(failures, report.AckedChanges >= run.Options.Changes, $"only {report.AckedChanges} of {run.Options.Changes} changes were acknowledged");
        scenarioChecks?.Invoke(report, failures);

        report.Result = failures.Count == 0 ? "pass" : "fail";
        report.Save();
        Output.WriteLine(report.ToJsonLine());
        run.Mark($"{report.Scenario} {report.Result} in {report.WallS:0} s{(failures.Count == 0 ? "" : ": " + string.Join("; ", failures))}");
        if (failures.Count == 0)
        {
            // The apply ledgers are large; the logs and the report stay as evidence.
            foreach (var node in run.Nodes)
            {
                File.Delete(node.LedgerPath);
            }
        }
        else
        {
            Assert.Fail($"{report.Scenario}:\n- {string.Join("\n- ", failures)}\n{report.ToJsonLine()}\n{verdict.Check.Summary}\n{run.Diagnostics()}");
        }

        return report;
    }

    protected static void Expect(List<string> failures, bool condition, string message)
    {
        if (!condition)
        {
            failures.Add(message);
        }
    }

    protected sealed record Verdict(CheckOutcome Check, TimeSpan Quiesce, DateTime QuiescentUtc);
}
