using Akka.Actor;
using Akka.Configuration;
using Replicator.Engine.Configuration;
using Replicator.Engine.Jobs;
using Replicator.Engine.Jobs.Testing;
using Replicator.Jobs;

namespace Replicator.Engine.Tests.Jobs;

public sealed class LedgerRecordingJobTests : IDisposable
{
    private readonly string _ledger = Path.Combine(Path.GetTempPath(), $"ledger-{Guid.NewGuid():N}.tsv");
    private readonly ActorSystem _system;

    public LedgerRecordingJobTests()
    {
        var config = ConfigurationFactory.ParseString($"replicator.testing.apply-ledger = {System.Text.Json.JsonSerializer.Serialize(_ledger)}");
        _system = ActorSystem.Create("ledger", config.WithFallback(ReplicatorSettings.Defaults));
    }

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        File.Delete(_ledger);
    }

    [Fact]
    public async Task Each_change_the_job_applied_or_refused_as_stale_is_a_ledger_line_and_failures_are_not()
    {
        var batch = new[] { Item(1, 100), Item(2, 200), Item(3, 300), Item(4, 400) };
        var job = new LedgerRecordingJob(
            new FixedJob(ApplyResult.Applied, ApplyResult.Refused, ApplyResult.Failed("boom"), ApplyResult.SinkUnavailable("down")),
            ApplyLedger.Get(_system),
            "redis-cache");

        var results = await job.ApplyAsync(batch, CancellationToken.None);

        Assert.Equal(4, results.Count);
        var lines = File.ReadAllLines(_ledger).Select(l => l.Split('\t')).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(("shop.t:1", "redis-cache", "applied"), (lines[0][0], lines[0][3], lines[0][4]));
        Assert.Equal(("shop.t:2", "redis-cache", "refused"), (lines[1][0], lines[1][3], lines[1][4]));
        Assert.Equal(batch[0].Change.Version.ToString(), lines[0][1]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_factory_wraps_a_job_in_the_ledger_only_when_testing_settings_name_a_ledger_file(bool withLedger)
    {
        var hocon = """
            replicator.sources.main { connection-string = "Server=127.0.0.1;User ID=cdc", server-id = 1001 }
            replicator.definitions.logged { topics = ["*"], job.type = log }
            """;
        var config = HoconLoader.LoadString(hocon);
        using var system = withLedger ? null : ActorSystem.Create("plain", config.WithFallback(ReplicatorSettings.Defaults));
        var target = system ?? _system;
        var settings = ReplicatorSettings.Create(config.WithFallback(target.Settings.Config));

        await using var job = JobFactory.Create(new JobContext(settings.Definitions.Single(), settings, target, target.Log));

        Assert.Equal(withLedger, job is LedgerRecordingJob);
        if (system is not null) await system.Terminate();
    }

    private static JobItem Item(long id, long position)
    {
        var change = TestChanges.Write(id, id * 10, position);
        return new JobItem(change.Key, change, 1);
    }

    private sealed class FixedJob(params ApplyResult[] results) : IReplicationJob
    {
        public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ApplyResult>>(results);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
