using Replicator.Binlog.Columns;
using Replicator.Engine.Replication;
using Replicator.Jobs;
using Replicator.Model;

namespace Replicator.Engine.Tests.Replication;

/// <summary>
/// binlog_row_image = MINIMAL or NOBLOB: an update's after image carries only some columns
/// (the others are absent). Coalescing two of them must keep the columns of both.
/// </summary>
public sealed class PartialImageCoalescingTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly string[] Names = ["id", "a", "b", "c"];
    private static readonly RetryPolicy Retry = new(TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(60), 3, 0);

    private static ColumnValue I(long v) => ColumnValue.FromInt64(v);

    private static readonly ColumnValue Absent = ColumnValue.Absent;

    private static RowChange Change(ChangeAction action, long position, RowData? before, RowData? after) =>
        new("src", "shop", "t", action, new RowKey(["id"], [I(1)]), before, after,
            new ChangePosition("mariadb-bin.000001", position, null), new SourceVersion(1, position, 0), T0);

    private static RowData Row(params ColumnValue[] values) => new(Names, values);

    private static RowChange Set(long position, params ColumnValue[] after) => Change(ChangeAction.Update, position, Row(I(1), Absent, Absent, Absent), Row(after));

    private static Delivery D(long sequence, RowChange change) => new(new DeliveryId("e1", sequence), change);

    private static IReadOnlyList<ColumnValue> Image(BatchEntry entry) => entry.Latest.Change.Image!.Values;

    [Fact]
    public void Two_partial_updates_of_a_waiting_pk_are_merged_column_by_column()
    {
        var queue = new DedupeQueue(DedupeMode.Row, Retry);
        queue.Enqueue(D(1, Set(100, Absent, I(1), Absent, Absent)));   // SET a = 1
        queue.Enqueue(D(2, Set(200, Absent, Absent, I(2), Absent)));   // SET b = 2

        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { Absent, I(1), I(2), Absent }, Image(entry));
        Assert.Equal(200, entry.Latest.Change.Version.Position);
        Assert.Equal(2, entry.Covered.Count);
    }

    [Fact]
    public void A_late_older_image_fills_a_column_only_over_a_still_older_value_never_over_a_newer_one()
    {
        var queue = new DedupeQueue(DedupeMode.Row, Retry);
        queue.Enqueue(D(4, Set(200, Absent, I(20), ColumnValue.Null, Absent)));   // SET a = 20, b = NULL
        queue.Enqueue(D(1, Set(100, Absent, I(10), I(1), I(5))));                 // older, arriving late: only c is newer than what is held
        queue.Enqueue(D(3, Set(150, Absent, I(15), Absent, I(7))));               // later than that, arriving later still: c = 7 is newer than c = 5
        queue.Enqueue(D(2, Set(120, Absent, Absent, Absent, I(6))));              // c = 6 is older than c = 7

        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { Absent, I(20), ColumnValue.Null, I(7) }, Image(entry));
        Assert.Equal(200, entry.Latest.Change.Version.Position);
        Assert.Equal(4, entry.Covered.Count);
    }

    [Fact]
    public void A_replay_of_older_changes_never_puts_a_stale_column_into_a_waiting_newer_change()
    {
        // Source: v100 SET a = 1, v200 SET a = 2, v300 SET b = 3. v100 and v200 were applied (the
        // sink has a = 2); v300 still waits when a new capture epoch replays v100 and v200.
        var queue = new DedupeQueue(DedupeMode.Row, Retry);
        queue.Enqueue(new Delivery(new DeliveryId("e1", 3), Set(300, Absent, Absent, I(3), Absent)));
        queue.Enqueue(new Delivery(new DeliveryId("e2", 1), Set(100, Absent, I(1), Absent, Absent)));
        queue.Enqueue(new Delivery(new DeliveryId("e2", 2), Set(200, Absent, I(2), Absent, Absent)));

        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { Absent, I(2), I(3), Absent }, Image(entry));
        Assert.Equal(300, entry.Latest.Change.Version.Position);
    }

    [Fact]
    public void A_late_delete_drops_the_columns_merged_from_before_it_and_a_late_insert_makes_the_change_an_insert()
    {
        var queue = new DedupeQueue(DedupeMode.Row, Retry);
        queue.Enqueue(D(1, Set(100, Absent, I(1), Absent, Absent)));                                   // SET a = 1
        queue.Enqueue(D(4, Set(300, Absent, Absent, I(3), Absent)));                                   // SET b = 3
        queue.Enqueue(D(2, Change(ChangeAction.Delete, 200, Row(I(1), Absent, Absent, Absent), null)));  // late: the row was deleted between
        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { Absent, Absent, I(3), Absent }, Image(entry));
        Assert.Equal(ChangeAction.Update, entry.Latest.Change.Action);

        queue.Complete(entry, ApplyResult.Applied, T0);
        queue.Enqueue(D(6, Set(400, Absent, Absent, I(4), Absent)));                                   // SET b = 4
        queue.Enqueue(D(5, Change(ChangeAction.Write, 350, null, Row(I(1), I(5), I(5), ColumnValue.Null))));  // late: inserted again before it
        var insert = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(ChangeAction.Write, insert.Latest.Change.Action);
        Assert.Null(insert.Latest.Change.Before);
        Assert.Equal(new[] { I(1), I(5), I(4), ColumnValue.Null }, Image(insert));
    }

    [Fact]
    public void A_retried_dead_letter_never_fills_a_waiting_newer_change_with_its_old_image()
    {
        var queue = new DedupeQueue(DedupeMode.Row, Retry);
        queue.Enqueue(D(1, Set(300, Absent, Absent, I(3), Absent)));
        queue.Enqueue(new Delivery(new DeliveryId(DeadLetterStore.RetryEpochPrefix + "0123456789ab", 1), Set(100, Absent, I(1), Absent, Absent)));

        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { Absent, Absent, I(3), Absent }, Image(entry));
        Assert.Equal(2, entry.Covered.Count);
    }

    [Fact]
    public void An_insert_followed_by_a_partial_update_stays_an_insert_with_both_images_merged()
    {
        var queue = new DedupeQueue(DedupeMode.Row, Retry);
        queue.Enqueue(D(1, Change(ChangeAction.Write, 100, null, Row(I(1), I(1), Absent, Absent))));
        queue.Enqueue(D(2, Set(200, Absent, Absent, I(2), Absent)));

        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(ChangeAction.Write, entry.Latest.Change.Action);
        Assert.Equal(new[] { I(1), I(1), I(2), Absent }, Image(entry));
    }

    [Fact]
    public void A_delete_between_them_is_never_merged_across()
    {
        var queue = new DedupeQueue(DedupeMode.Row, Retry);
        queue.Enqueue(D(1, Change(ChangeAction.Write, 100, null, Row(I(1), I(1), I(1), I(1)))));
        queue.Enqueue(D(2, Change(ChangeAction.Delete, 200, Row(I(1), Absent, Absent, Absent), null)));
        queue.Enqueue(D(3, Change(ChangeAction.Write, 300, null, Row(I(1), Absent, I(3), Absent))));

        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { I(1), Absent, I(3), Absent }, Image(entry));
    }

    [Fact]
    public void A_newer_partial_image_that_supersedes_a_failed_one_carries_the_failed_ones_columns()
    {
        var queue = new DedupeQueue(DedupeMode.Row, Retry);
        queue.Enqueue(D(1, Set(100, Absent, I(1), Absent, Absent)));
        var failed = Assert.Single(queue.TakeBatch(10, T0));
        queue.Enqueue(D(2, Set(200, Absent, Absent, I(2), Absent)));
        queue.Complete(failed, ApplyResult.Failed("timeout"), T0);

        var retried = Assert.Single(queue.TakeBatch(10, queue.NextRetryAt!.Value));
        Assert.Equal(new[] { Absent, I(1), I(2), Absent }, Image(retried));
        Assert.Equal(2, retried.Covered.Count);
    }

    [Fact]
    public void A_newer_partial_image_waiting_behind_a_parked_one_carries_its_columns()
    {
        var queue = new DedupeQueue(DedupeMode.Row, Retry with { MaxAttempts = 1 });
        queue.Enqueue(D(1, Set(100, Absent, I(1), Absent, Absent)));
        var failed = Assert.Single(queue.TakeBatch(10, T0));
        queue.Enqueue(D(2, Set(200, Absent, Absent, I(2), Absent)));
        Assert.NotNull(queue.Complete(failed, ApplyResult.Failed("boom"), T0).DeadLetter);

        var next = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { Absent, I(1), I(2), Absent }, Image(next));
    }

    [Fact]
    public void Pk_mode_merges_partial_images_too_so_a_read_that_misses_their_commits_still_gets_every_column_they_set()
    {
        // The pk-mode job lays the change's columns over the row it reads; a read before v100's
        // and v200's commits are visible would otherwise keep the old a.
        var queue = new DedupeQueue(DedupeMode.Pk, Retry);
        queue.Enqueue(D(1, Set(100, Absent, I(1), Absent, Absent)));   // SET a = 1
        queue.Enqueue(D(2, Set(200, Absent, Absent, I(2), Absent)));   // SET b = 2

        var entry = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { Absent, I(1), I(2), Absent }, Image(entry));
        Assert.Equal(200, entry.Latest.Change.Version.Position);
    }

    [Fact]
    public void Every_change_mode_keeps_each_image_as_it_was_logged()
    {
        var queue = new DedupeQueue(DedupeMode.EveryChange, Retry);
        queue.Enqueue(D(1, Set(100, Absent, I(1), Absent, Absent)));
        queue.Enqueue(D(2, Set(200, Absent, Absent, I(2), Absent)));
        var first = Assert.Single(queue.TakeBatch(10, T0));
        Assert.Equal(new[] { Absent, I(1), Absent, Absent }, Image(first));
        queue.Complete(first, ApplyResult.Applied, T0);
        Assert.Equal(new[] { Absent, Absent, I(2), Absent }, Image(Assert.Single(queue.TakeBatch(10, T0))));
    }
}
