using FsCheck;
using FsCheck.Fluent;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Offsets;

namespace Replicator.Engine.Tests.Offsets;

public sealed class CommitTrackerTests
{
    private static BinlogPosition P(long position) => new("mariadb-bin.000001", position);

    [Fact]
    public void The_offset_stays_at_a_transactions_start_until_its_rows_are_finished_in_order()
    {
        var tracker = new CommitTracker(new SourceOffset(P(4), 0, null));
        tracker.Began(new TransactionBegan(1, P(100), null));
        tracker.Emitted(1, 0);
        tracker.Emitted(1, 1);
        tracker.Emitted(1, 1);
        tracker.RowsSeen(1, 2);
        tracker.Ended(new TransactionEnded(1, 2, P(500), null));
        Assert.Equal(new SourceOffset(P(100), 0, null), tracker.Offset);

        tracker.Completed(1, 1);
        Assert.Equal(new SourceOffset(P(100), 0, null), tracker.Offset);
        tracker.Completed(1, 0);
        Assert.Equal(new SourceOffset(P(100), 1, null), tracker.Offset);
        tracker.Completed(1, 1);
        Assert.Equal(new SourceOffset(P(500), 0, null), tracker.Offset);
        Assert.Equal(0, tracker.OpenTransactions);
    }

    [Fact]
    public void An_open_transaction_counts_its_handled_prefix_of_rows()
    {
        var tracker = new CommitTracker(null);
        Assert.Null(tracker.Offset);
        tracker.Began(new TransactionBegan(1, P(100), "0-1-5"));
        tracker.RowsSeen(1, 3);
        tracker.Emitted(1, 3);
        tracker.RowsSeen(1, 4);
        Assert.Equal(new SourceOffset(P(100), 3, "0-1-5"), tracker.Offset);
        tracker.Completed(1, 3);
        Assert.Equal(new SourceOffset(P(100), 4, "0-1-5"), tracker.Offset);
    }

    [Fact]
    public void A_transaction_without_captured_changes_settles_at_once_and_a_duplicate_ack_is_ignored()
    {
        var tracker = new CommitTracker(null);
        tracker.Began(new TransactionBegan(1, P(100), null));
        tracker.RowsSeen(1, 10);
        tracker.Ended(new TransactionEnded(1, 10, P(900), "0-1-6"));
        Assert.Equal(new SourceOffset(P(900), 0, "0-1-6"), tracker.Offset);
        Assert.False(tracker.Completed(1, 0));
    }

    /// <summary>
    /// How a paused table holds the offset (a row too large for any frame, an unmappable row, a
    /// statement that needs a resync): its first held row is emitted and never finished, and its
    /// later rows are not recorded at all. The offset stays at that row, after the rows before it
    /// that finished, however many later transactions end and whatever the stream says between them.
    /// </summary>
    [Fact]
    public void A_row_held_for_ever_holds_the_offset_at_itself_while_later_transactions_end()
    {
        var tracker = new CommitTracker(new SourceOffset(P(4), 0, "0-1-1"));
        tracker.Began(new TransactionBegan(1, P(100), "0-1-1"));
        tracker.Emitted(1, 0);
        tracker.Emitted(1, 1);
        tracker.RowsSeen(1, 2);
        tracker.Ended(new TransactionEnded(1, 2, P(200), "0-1-2"));
        tracker.Completed(1, 0);
        for (var tx = 2; tx < 50; tx++)
        {
            tracker.Began(new TransactionBegan(tx, P(tx * 100), $"0-1-{tx}"));
            tracker.Emitted(tx, 0);
            tracker.RowsSeen(tx, 3);
            tracker.Ended(new TransactionEnded(tx, 3, P((tx * 100) + 100), $"0-1-{tx + 1}"));
            tracker.Completed(tx, 0);
            tracker.Positioned(new Positioned(P((tx * 100) + 100)));
        }

        Assert.Equal(new SourceOffset(P(100), 1, "0-1-1"), tracker.Offset);
        Assert.False(tracker.Completed(1, 2));
        Assert.Equal(new SourceOffset(P(100), 1, "0-1-1"), tracker.Offset);
    }

    [Fact]
    public void A_paused_tables_row_stops_the_tracking_of_everything_after_it_so_the_tracker_stays_bounded()
    {
        var tracker = new CommitTracker(new SourceOffset(P(4), 0, null));
        tracker.Began(new TransactionBegan(1, P(100), null));
        tracker.Emitted(1, 0);
        tracker.Pinned(1, 1);
        tracker.RowsSeen(1, 3);
        tracker.Ended(new TransactionEnded(1, 3, P(200), null));

        // The other tables go on for a long time while the paused one waits for its fix.
        for (var tx = 2L; tx < 100_002; tx++)
        {
            tracker.Began(new TransactionBegan(tx, P(tx * 100), null));
            tracker.Emitted(tx, 0);
            tracker.RowsSeen(tx, 1);
            tracker.Ended(new TransactionEnded(tx, 1, P((tx * 100) + 99), null));
            tracker.Completed(tx, 0);
        }

        Assert.Equal(1, tracker.OpenTransactions);
        Assert.Equal(2, tracker.Outstanding);
        Assert.True(tracker.Completed(1, 0));
        Assert.Equal(new SourceOffset(P(100), 1, null), tracker.Offset);
        Assert.Equal((1L, 1), tracker.Pin);
    }

    [Fact]
    public void A_pin_before_transactions_already_tracked_drops_them_and_an_earlier_pin_wins()
    {
        var tracker = new CommitTracker(new SourceOffset(P(4), 0, null));
        for (var tx = 1L; tx <= 3; tx++)
        {
            tracker.Began(new TransactionBegan(tx, P(tx * 100), null));
            tracker.Emitted(tx, 0);
        }

        tracker.Pinned(3, 0);
        Assert.Equal(3, tracker.OpenTransactions);
        tracker.Pinned(2, 0);
        Assert.Equal(2, tracker.OpenTransactions);
        Assert.Equal(3, tracker.Outstanding);
        tracker.Pinned(3, 0);
        Assert.Equal((2L, 0), tracker.Pin);
        tracker.Completed(1, 0);
        tracker.Ended(new TransactionEnded(1, 1, P(199), null));
        Assert.Equal(new SourceOffset(P(200), 0, null), tracker.Offset);
        Assert.False(tracker.Completed(3, 0));
    }

    [Fact]
    public void Random_interleavings_with_a_paused_row_never_let_the_offset_pass_it_nor_track_past_it()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), RunWithPin));
    }

    private static bool RunWithPin(int seed)
    {
        var random = new Random(seed);
        var tracker = new CommitTracker(new SourceOffset(P(4), 0, null));
        var unfinished = new List<(long Tx, int Row)>();
        (long Tx, int Row)? pin = null;
        var transactions = 2 + random.Next(30);
        long tx = 0;
        var open = false;
        var rows = 0;
        while (tx < transactions || open || unfinished.Count > 0)
        {
            var choice = random.Next(10);
            if (choice < 5 && (tx < transactions || open))
            {
                if (!open)
                {
                    tx++;
                    tracker.Began(new TransactionBegan(tx, P(tx * 1000), null));
                    open = true;
                    rows = 0;
                }
                else if (random.Next(6) == 0)
                {
                    tracker.Ended(new TransactionEnded(tx, rows, P((tx * 1000) + 999), null));
                    open = false;
                }
                else if (pin is null && random.Next(8) == 0)
                {
                    tracker.Pinned(tx, rows);
                    pin = (tx, rows);
                    rows++;
                    tracker.RowsSeen(tx, rows);
                }
                else
                {
                    var deliveries = random.Next(3);
                    for (var d = 0; d < deliveries; d++)
                    {
                        tracker.Emitted(tx, rows);
                        unfinished.Add((tx, rows));
                    }

                    rows++;
                    tracker.RowsSeen(tx, rows);
                }
            }
            else if (unfinished.Count > 0)
            {
                var index = random.Next(unfinished.Count);
                var (t, r) = unfinished[index];
                unfinished.RemoveAt(index);
                var tracked = pin is not { } p || t < p.Tx || (t == p.Tx && r < p.Row);
                var completed = tracker.Completed(t, r);
                if (tracked)
                {
                    Assert.True(completed, $"row {r} of transaction {t} before the pin {pin} was not tracked");
                }
            }

            var offset = tracker.Offset!;
            foreach (var (t, r) in pin is { } pinned ? unfinished.Append(pinned) : unfinished)
            {
                var position = t * 1000;
                Assert.True(
                    offset.Position.Position < position || (offset.Position.Position == position && offset.SkipRows <= r),
                    $"offset {offset} passed unfinished row {r} of transaction {t}");
            }

            if (pin is { } at)
            {
                Assert.True(tracker.OpenTransactions <= at.Tx, $"{tracker.OpenTransactions} transactions tracked with the pin in transaction {at.Tx}");
            }
        }

        return true;
    }

    [Fact]
    public void Random_interleavings_never_let_the_offset_pass_an_unfinished_change()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), Run));
    }

    private static bool Run(int seed)
    {
        var random = new Random(seed);
        var tracker = new CommitTracker(new SourceOffset(P(4), 0, null));
        var unfinished = new List<(long Tx, int Row)>();
        var restart = new Dictionary<long, long>();
        var transactions = 1 + random.Next(20);
        long tx = 0;
        var open = false;
        var rows = 0;
        var lastEnd = 4L;
        while (tx < transactions || open || unfinished.Count > 0)
        {
            var choice = random.Next(10);
            if (choice < 5 && (tx < transactions || open))
            {
                if (!open)
                {
                    tx++;
                    restart[tx] = tx * 1000;
                    tracker.Began(new TransactionBegan(tx, P(tx * 1000), null));
                    open = true;
                    rows = 0;
                }
                else if (random.Next(6) == 0)
                {
                    lastEnd = tx * 1000 + 999;
                    tracker.Ended(new TransactionEnded(tx, rows, P(lastEnd), null));
                    open = false;
                }
                else
                {
                    // A rows event: a few rows, each emitted to 0..2 definitions (a pk change emits twice).
                    var count = 1 + random.Next(4);
                    for (var i = 0; i < count; i++)
                    {
                        var deliveries = random.Next(3);
                        for (var d = 0; d < deliveries; d++)
                        {
                            tracker.Emitted(tx, rows);
                            unfinished.Add((tx, rows));
                        }

                        rows++;
                    }

                    tracker.RowsSeen(tx, rows);
                }
            }
            else if (unfinished.Count > 0)
            {
                var index = random.Next(unfinished.Count);
                var (t, r) = unfinished[index];
                unfinished.RemoveAt(index);
                Assert.True(tracker.Completed(t, r));
                if (random.Next(5) == 0)
                {
                    // A duplicate acknowledgement must not finish another delivery of the same row.
                    var stillPending = unfinished.Contains((t, r));
                    Assert.Equal(stillPending, tracker.Completed(t, r));
                    if (stillPending)
                    {
                        unfinished.Remove((t, r));
                    }
                }
            }

            var offset = tracker.Offset!;
            foreach (var (t, r) in unfinished)
            {
                var position = restart[t];
                Assert.True(
                    offset.Position.Position < position || (offset.Position.Position == position && offset.SkipRows <= r),
                    $"offset {offset} passed unfinished row {r} of transaction {t} starting at {position}");
            }
        }

        Assert.Equal(new SourceOffset(P(lastEnd), 0, null), tracker.Offset);
        Assert.Equal(0, tracker.Outstanding);
        return true;
    }
}
