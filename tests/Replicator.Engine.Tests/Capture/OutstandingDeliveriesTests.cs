using Akka.Actor;
using Replicator.Engine.Capture;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Tests.Capture;

public sealed class OutstandingDeliveriesTests
{
    private static readonly DateTime T0 = new(2026, 11, 24, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly Address NodeA = new("akka.tcp", "replicator", "127.0.0.1", 4001);
    private static readonly Address NodeB = new("akka.tcp", "replicator", "127.0.0.1", 4002);

    private static OutstandingDeliveries With(params (long Sequence, int Bucket)[] deliveries)
    {
        var outstanding = new OutstandingDeliveries();
        foreach (var (sequence, bucket) in deliveries)
        {
            var captured = new ChangeCaptured(1, (int)sequence, TestChanges.Write(sequence, 1, 100 + sequence));
            outstanding.Add(sequence, new Outstanding(0, bucket, captured, new ChangeTicket(100) { Remaining = 1 }, T0));
        }

        return outstanding;
    }

    private static long[] Sequences(Dictionary<(int Route, int Bucket), List<SequencedChange>>? taken) =>
        taken is null ? [] : taken.Values.SelectMany(l => l).Select(c => c.Sequence).Order().ToArray();

    [Fact]
    public void An_unacknowledged_change_is_sent_again_after_the_timeout_then_after_doubling_intervals_up_to_eight_times()
    {
        var outstanding = With((1, 0));
        var at = T0;
        var expectedWaits = new[] { 5, 10, 20, 40, 40, 40 };
        foreach (var wait in expectedWaits)
        {
            Assert.Empty(Sequences(outstanding.TakeOverdue(at + TimeSpan.FromSeconds(wait) - TimeSpan.FromMilliseconds(1), Timeout)));
            at += TimeSpan.FromSeconds(wait);
            Assert.Equal([1L], Sequences(outstanding.TakeOverdue(at, Timeout)));
        }
    }

    [Fact]
    public void A_change_its_bucket_holds_waits_the_longest_interval()
    {
        var outstanding = With((1, 0), (2, 0));
        Assert.Equal([1L, 2L], Sequences(outstanding.TakeOverdue(T0 + Timeout, Timeout)));
        var heldAt = T0 + TimeSpan.FromSeconds(6);
        outstanding.MarkHeld([1L], NodeA, heldAt);

        Assert.Equal([2L], Sequences(outstanding.TakeOverdue(T0 + Timeout + TimeSpan.FromSeconds(10), Timeout)));
        Assert.DoesNotContain(1L, Sequences(outstanding.TakeOverdue(heldAt + TimeSpan.FromSeconds(39), Timeout)));
        Assert.Contains(1L, Sequences(outstanding.TakeOverdue(heldAt + TimeSpan.FromSeconds(40), Timeout)));
    }

    [Fact]
    public void A_departed_node_gets_back_only_what_its_buckets_and_unknown_buckets_hold_in_sequence_order()
    {
        var outstanding = With((1, 0), (2, 1), (3, 2), (4, 0), (5, 1));
        outstanding.NoteHome(0, 0, NodeA);
        outstanding.NoteHome(0, 1, NodeB);

        var taken = outstanding.TakeDeparted(new HashSet<Address> { NodeA }, T0 + TimeSpan.FromSeconds(1));

        Assert.Equal([1L, 3L, 4L], Sequences(taken));
        Assert.Equal([1L, 4L], taken![(0, 0)].Select(c => c.Sequence));
        // Bucket 0's home is forgotten: a second departure of anyone sends its changes again.
        Assert.Equal([1L, 3L, 4L], Sequences(outstanding.TakeDeparted(new HashSet<Address> { new("akka.tcp", "replicator", "127.0.0.1", 4999) }, T0 + TimeSpan.FromSeconds(2))));
    }

    [Fact]
    public void What_a_departed_node_held_goes_again_even_when_its_bucket_has_answered_from_a_new_home()
    {
        var outstanding = With((1, 0), (2, 0));
        outstanding.NoteHome(0, 0, NodeA);
        outstanding.MarkHeld([1L], NodeA, T0);
        outstanding.NoteHome(0, 0, NodeB);

        Assert.Equal([1L], Sequences(outstanding.TakeDeparted(new HashSet<Address> { NodeA }, T0 + TimeSpan.FromSeconds(1))));
    }

    [Fact]
    public void A_departure_or_a_hand_off_resets_the_backoff()
    {
        var outstanding = With((1, 0), (2, 1));
        outstanding.NoteHome(0, 0, NodeA);
        outstanding.NoteHome(0, 1, NodeB);
        outstanding.MarkHeld([1L], NodeA, T0);
        outstanding.MarkHeld([2L], NodeB, T0);
        var at = T0 + TimeSpan.FromSeconds(1);

        Assert.Equal([1L], Sequences(outstanding.TakeDeparted(new HashSet<Address> { NodeA }, at)));
        Assert.Equal([2L], Sequences(outstanding.TakeHandedOff(0, 1, at)));
        Assert.Empty(Sequences(outstanding.TakeOverdue(at + Timeout - TimeSpan.FromMilliseconds(1), Timeout)));
        Assert.Equal([1L, 2L], Sequences(outstanding.TakeOverdue(at + Timeout, Timeout)));
    }

    [Fact]
    public void A_hand_off_sends_again_everything_outstanding_for_that_bucket_not_only_what_it_held()
    {
        // Bucket 0 held 1; 2 and 4 were on their way to it (the hosting region drops those during
        // the hand-off); 3 belongs to bucket 1 and stays where it is.
        var outstanding = With((1, 0), (2, 0), (3, 1), (4, 0));
        outstanding.NoteHome(0, 0, NodeA);
        outstanding.NoteHome(0, 1, NodeA);
        outstanding.MarkHeld([1L], NodeA, T0);
        var at = T0 + TimeSpan.FromSeconds(1);

        var taken = outstanding.TakeHandedOff(0, 0, at);

        Assert.Equal([1L, 2L, 4L], taken![(0, 0)].Select(c => c.Sequence));
        Assert.Single(taken);
        Assert.Null(outstanding.TakeHandedOff(0, 2, at));
        // Bucket 0 has no known home until it answers again: a departure of anyone sends it again,
        // while bucket 1 stays with node A.
        Assert.Equal([1L, 2L, 4L], Sequences(outstanding.TakeDeparted(new HashSet<Address> { NodeB }, at)));
    }

    [Fact]
    public void Finished_changes_leave_and_the_lowest_outstanding_moves_past_them()
    {
        var outstanding = With((1, 0), (2, 0), (3, 1));
        Assert.Equal(1, outstanding.LowestOutstanding(4));
        Assert.True(outstanding.TryFinish(2, out _));
        Assert.Equal(1, outstanding.LowestOutstanding(4));
        Assert.True(outstanding.TryFinish(1, out var first));
        Assert.Equal(1, first.Captured.RowOrdinal);
        Assert.False(outstanding.TryFinish(1, out _));
        Assert.Equal(3, outstanding.LowestOutstanding(4));
        Assert.True(outstanding.TryFinish(3, out _));
        Assert.Equal(4, outstanding.LowestOutstanding(4));
        Assert.Equal(0, outstanding.Count);
        Assert.Null(outstanding.TakeOverdue(T0 + TimeSpan.FromHours(1), Timeout));
    }
}
