using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Replicator.Engine.Configuration;
using Replicator.Engine.Jobs;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Tests.Replication;

/// <summary>A bucket with a fake job and a probe for the dead-letter store; the test actor is the capture.</summary>
public sealed class ReplicatorEntityTests : TestKit
{
    private const string Epoch = "src-0123456789ab";

    private static DefinitionSettings Definition(DedupeMode mode = DedupeMode.Row, int maxAttempts = 1, TimeSpan? applyTimeout = null) => new(
        "cache",
        "src",
        ["*"],
        1,
        mode,
        50,
        applyTimeout ?? TimeSpan.FromSeconds(5),
        new RetryPolicy(TimeSpan.FromMilliseconds(50), 2, TimeSpan.FromMilliseconds(200), maxAttempts, 0),
        new JobSettings("fake", ConfigurationFactory.Empty, "replicator.definitions.cache.job"));

    private static DeliverChanges Deliver(params (long Sequence, Model.RowChange Change)[] changes) =>
        new("cache", 0, Epoch, 0, changes.Select(c => new SequencedChange(c.Sequence, c.Change)).ToList());

    [Fact]
    public void A_parked_change_is_acknowledged_only_once_the_store_confirmed_it_and_a_failed_store_write_is_tried_again()
    {
        var store = CreateTestProbe("store");
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(applyTimeout: TimeSpan.FromMilliseconds(300)), 0, new FailingJob(), store.Ref));
        var delivery = Deliver((1, TestChanges.Write(1, 1, 100)));

        bucket.Tell(delivery);
        var parked = store.ExpectMsg<DeadLetterParked>();
        Assert.Equal("1", parked.Change.Key.Canonical);

        // The store has not answered: a redelivery is held, not acknowledged as finished.
        bucket.Tell(delivery);
        var held = ExpectMsg<DeliveriesHeld>();
        Assert.Equal([1L], held.Sequences);

        // No answer within apply-timeout: the write is tried again, and still nothing is acknowledged.
        store.ExpectMsg<DeadLetterParked>(TimeSpan.FromSeconds(3));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        store.Reply(DeadLetterAccepted.Instance);

        var finished = ExpectMsg<ChangesFinished>();
        Assert.Equal([1L], finished.Sequences);
        bucket.Tell(delivery);
        Assert.Equal([1L], ExpectMsg<ChangesFinished>().Sequences);
    }

    /// <summary>A job whose every item fails.</summary>
    private sealed class FailingJob : IReplicationJob
    {
        public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ApplyResult>>(batch.Select(_ => ApplyResult.Failed("the sink refuses this row")).ToList());

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
