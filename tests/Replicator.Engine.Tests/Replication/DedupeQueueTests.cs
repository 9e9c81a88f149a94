using Replicator.Engine.Replication;
using Replicator.Jobs;
using Replicator.Model;

namespace Replicator.Engine.Tests.Replication;

public sealed class DedupeQueueTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly RetryPolicy FastRetry = new(TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(60), 3, 0);

    private static Delivery D(long sequence, RowChange change) => new(new DeliveryId("e1", sequence), change);

    [Fact]
    public void Row_mode_keeps_the_newest_image_of_a_pk_and_acknowledges_the_older_with_it()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry);
        Assert.Equal(EnqueueResult.Queued, queue.Enqueue(D(1, TestChanges.Write(7, 1, 100))));
        Assert.Equal(EnqueueResult.Coalesced, queue.Enqueue(D(2, TestChanges.Update(7, 1, 2, 200))));
        Assert.Equal(EnqueueResult.Coalesced, queue.Enqueue(D(3, TestChanges.Update(7, 2, 3, 300))));

        var batch = queue.TakeBatch(10, T0);
        var entry = Assert.Single(batch);
        Assert.Equal(3, entry.Latest.Change.After!["v"].AsInt64());
        var done = queue.Complete(entry, ApplyResult.Applied, T0);
        Assert.Equal([1L, 2L, 3L], done.Acknowledge.Select(id => id.Sequence).Order());
        Assert.Equal(2, queue.Coalesced);
        Assert.Equal(0, queue.PendingPks);
    }

    [Fact]
    public void Every_change_mode_applies_each_change_of_a_pk_in_order_one_at_a_time()
    {
        var queue = new DedupeQueue(DedupeMode.EveryChange, FastRetry);
        queue.Enqueue(D(1, TestChanges.Write(7, 1, 100)));
        queue.Enqueue(D(2, TestChanges.Update(7, 1, 2, 200)));
        var applied = new List<long>();
        for (var i = 0; i < 2; i++)
        {
            var entry = Assert.Single(queue.TakeBatch(10, T0));
            applied.Add(entry.Latest.Id.Sequence);
            Assert.Empty(queue.TakeBatch(10, T0));
            queue.Complete(entry, ApplyResult.Applied, T0);
        }

        Assert.Equal([1L, 2L], applied);
        Assert.Equal(0, queue.Coalesced);
    }

    [Fact]
    public void A_pk_in_flight_is_not_taken_again_until_it_completes()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry);
        queue.Enqueue(D(1, TestChanges.Write(7, 1, 100)));
        var first = Assert.Single(queue.TakeBatch(10, T0));
        queue.Enqueue(D(2, TestChanges.Update(7, 1, 2, 200)));
        Assert.Empty(queue.TakeBatch(10, T0));
        var done = queue.Complete(first, ApplyResult.Applied, T0);
        Assert.Equal([1L], done.Acknowledge.Select(id => id.Sequence));
        var second = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(2, second.Latest.Id.Sequence);
    }

    [Fact]
    public void A_failing_pk_backs_off_without_blocking_other_pks_and_is_parked_after_its_last_attempt()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry);
        queue.Enqueue(D(1, TestChanges.Write(1, 1, 100)));
        queue.Enqueue(D(2, TestChanges.Write(2, 1, 100, 1)));
        var batch = queue.TakeBatch(10, T0);
        Assert.Equal(2, batch.Count);
        var bad = batch.Single(e => e.Key.Canonical == "1");
        var good = batch.Single(e => e.Key.Canonical == "2");
        var retry = queue.Complete(bad, ApplyResult.Failed("WRONGTYPE"), T0);
        Assert.Empty(retry.Acknowledge);
        Assert.Equal(T0.AddSeconds(1), retry.RetryAt);
        Assert.Equal([2L], queue.Complete(good, ApplyResult.Applied, T0).Acknowledge.Select(i => i.Sequence));

        queue.Enqueue(D(3, TestChanges.Write(3, 1, 200)));
        var next = Assert.Single(queue.TakeBatch(10, T0.AddMilliseconds(500)));
        Assert.Equal("3", next.Key.Canonical);

        var now = T0;
        Completion? last = null;
        for (var attempt = 2; attempt <= 3; attempt++)
        {
            now = queue.NextRetryAt!.Value;
            var again = Assert.Single(queue.TakeBatch(10, now), e => e.Key.Canonical == "1");
            Assert.Equal(attempt, again.Attempt);
            last = queue.Complete(again, ApplyResult.Failed("WRONGTYPE"), now);
        }

        Assert.NotNull(last!.DeadLetter);
        Assert.Equal(3, last.DeadLetter!.Attempts);
        Assert.Empty(last.Acknowledge);
        Assert.Equal([1L], queue.FinishParked(last.DeadLetter).Select(i => i.Sequence));
    }

    [Fact]
    public void A_change_arriving_for_a_parked_pk_is_applied_after_it()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry with { MaxAttempts = 1 });
        queue.Enqueue(D(1, TestChanges.Write(1, 1, 100)));
        var entry = Assert.Single(queue.TakeBatch(10, T0));
        queue.Enqueue(D(2, TestChanges.Update(1, 1, 2, 200)));
        var parked = queue.Complete(entry, ApplyResult.Failed("boom"), T0);
        Assert.NotNull(parked.DeadLetter);
        var later = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(2, later.Latest.Id.Sequence);
    }

    [Fact]
    public void A_parked_pk_is_held_not_finished_until_the_store_confirms_it()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry with { MaxAttempts = 1 });
        var change = D(1, TestChanges.Write(1, 1, 100));
        queue.Enqueue(change);
        var parked = queue.Complete(Assert.Single(queue.TakeBatch(10, T0)), ApplyResult.Failed("boom"), T0);

        Assert.NotNull(parked.DeadLetter);
        Assert.Empty(parked.Acknowledge);
        // A redelivery while the store write is slow (or after it failed) is held, never acknowledged as finished.
        Assert.Equal(EnqueueResult.Duplicate, queue.Enqueue(change));
        Assert.Equal([change.Id], queue.HeldDeliveries);

        Assert.Equal([change.Id], queue.FinishParked(parked.DeadLetter!));
        Assert.Equal(EnqueueResult.AlreadyFinished, queue.Enqueue(change));
        Assert.Empty(queue.FinishParked(parked.DeadLetter!));
        Assert.Equal(0, queue.PendingDeliveries);
    }

    [Fact]
    public void While_the_sink_is_down_a_failing_pk_waits_and_is_tried_again_without_spending_its_attempts()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry with { MaxAttempts = 2 });
        queue.Enqueue(D(1, TestChanges.Write(1, 1, 100)));
        var first = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Null(queue.Complete(first, ApplyResult.Failed("redis down"), T0).DeadLetter);

        var now = T0;
        for (var i = 0; i < 10; i++)
        {
            now = queue.NextRetryAt!.Value;
            var entry = Assert.Single(queue.TakeBatch(10, now));
            Assert.Equal(2, entry.Attempt);
            var held = queue.Complete(entry, ApplyResult.Failed("redis down"), now, sinkDownHold: TimeSpan.FromSeconds(30));
            Assert.Null(held.DeadLetter);
            Assert.Empty(held.Acknowledge);
            Assert.Equal(now.AddSeconds(30), held.RetryAt);
        }

        // The sink is back but the pk still fails: its attempts are counted again, and it is parked.
        now = queue.NextRetryAt!.Value;
        Assert.NotNull(queue.Complete(Assert.Single(queue.TakeBatch(10, now)), ApplyResult.Failed("poison"), now).DeadLetter);
    }

    [Fact]
    public void A_redelivered_change_is_ignored_while_held_and_acknowledged_again_once_finished()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry);
        var change = D(1, TestChanges.Write(1, 1, 100));
        queue.Enqueue(change);
        Assert.Equal(EnqueueResult.Duplicate, queue.Enqueue(change));
        queue.Complete(Assert.Single(queue.TakeBatch(10, T0)), ApplyResult.Applied, T0);
        Assert.Equal(EnqueueResult.AlreadyFinished, queue.Enqueue(change));
        queue.ForgetFinishedBelow("e1", 2);
        Assert.Equal(EnqueueResult.Queued, queue.Enqueue(change));
    }

    [Fact]
    public void A_forgotten_epoch_stays_forgotten_when_its_held_deliveries_finish()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry);
        queue.Enqueue(D(1, TestChanges.Write(1, 1, 100)));
        queue.Enqueue(new Delivery(new DeliveryId("e2", 1), TestChanges.Write(2, 1, 200)));
        Assert.Equal(2, queue.Epochs);

        queue.ForgetEpoch("e1");
        foreach (var entry in queue.TakeBatch(10, T0))
        {
            queue.Complete(entry, ApplyResult.Applied, T0);
        }

        Assert.Equal(1, queue.Epochs);
        Assert.Equal(0, queue.PendingDeliveries);
        Assert.Equal(EnqueueResult.AlreadyFinished, queue.Enqueue(new Delivery(new DeliveryId("e2", 1), TestChanges.Write(2, 1, 200))));
    }

    [Fact]
    public void An_older_change_arriving_late_does_not_replace_a_newer_waiting_image()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry);
        queue.Enqueue(D(2, TestChanges.Update(7, 1, 2, 200)));
        queue.Enqueue(D(1, TestChanges.Write(7, 1, 100)));
        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(2, entry.Latest.Change.After!["v"].AsInt64());
        Assert.Equal(2, entry.Covered.Count);
    }

    [Fact]
    public void Equal_pks_of_different_tables_are_different_pks()
    {
        var queue = new DedupeQueue(DedupeMode.Row, FastRetry);
        var order = TestChanges.Write(5, 1, 100);
        var customer = order with { Table = "customers" };
        Assert.Equal(EnqueueResult.Queued, queue.Enqueue(D(1, order)));
        Assert.Equal(EnqueueResult.Queued, queue.Enqueue(D(2, customer)));
        Assert.Equal(2, queue.TakeBatch(10, T0).Count);
    }
}
