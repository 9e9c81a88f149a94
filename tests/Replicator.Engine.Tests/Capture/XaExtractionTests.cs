using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Offsets;

namespace Replicator.Engine.Tests.Capture;

/// <summary>
/// XA transactions as MariaDB 10.5+ and MySQL 5.7.7+ log them: the prepare is a group of its own,
/// ended by XA_PREPARE; its outcome is another group. Events are laid out as the servers write
/// them (checked against MariaDB 10.11's binlog with mariadb-binlog).
/// </summary>
public sealed class XaExtractionTests
{
    private const string File = "mariadb-bin.000003";

    private static readonly XaId X1 = new(1, "x1"u8, []);

    private static readonly TableSchema Orders = new(
        "shop",
        "orders",
        [new ColumnDefinition("id", ColumnType.Long, 0, false), new ColumnDefinition("v", ColumnType.Long, 0, true)],
        [0]);

    private static EventHeader H(BinlogEventType type, long position, long size = 10) =>
        new(1_767_225_600, type, 1, (uint)size, (uint)(position + size), 0);

    private static RowsEvent Insert(long position, params long[] ids) =>
        new(H(BinlogEventType.WriteRowsV1, position), File, RowsEventKind.Write, 42, Orders, 1,
            ids.Select(id => new RowImage(null, [ColumnValue.FromInt64(id), ColumnValue.FromInt64(id)])).ToArray());

    private static QueryEvent Query(long position, string sql) => new(H(BinlogEventType.Query, position), File, 1, 0, 0, "shop", sql);

    /// <summary>MariaDB: GTID flagged FL_PREPARED_XA with the XID, rows, XA END, XA_PREPARE.</summary>
    private static BinlogEvent[] MariaDbPrepare(long at, ulong sequence, XaId xid, params long[] ids) =>
    [
        new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, at), File, 0, sequence, 0x4c, null, xid),
        Insert(at + 20, ids),
        Query(at + 30, $"XA END {xid}"),
        new XaPrepareEvent(H(BinlogEventType.XaPrepare, at + 40), File, OnePhase: false, xid),
    ];

    /// <summary>MariaDB: a standalone GTID flagged FL_COMPLETED_XA, then the XA COMMIT or XA ROLLBACK statement.</summary>
    private static BinlogEvent[] MariaDbOutcome(long at, ulong sequence, XaId xid, bool commit) =>
    [
        new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, at), File, 0, sequence, 0x8d, null, xid),
        Query(at + 10, $"XA {(commit ? "COMMIT" : "ROLLBACK")} {xid}"),
    ];

    private static BinlogEvent[] Plain(long at, ulong sequence, params long[] ids) =>
    [
        new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, at), File, 0, sequence, 0x0c, null),
        Query(at + 10, "BEGIN"),
        Insert(at + 20, ids),
        new XidEvent(H(BinlogEventType.Xid, at + 30), File, 9),
    ];

    private static List<CaptureItem> Run(ChangeExtractor extractor, params BinlogEvent[][] groups)
    {
        var items = new List<CaptureItem>();
        foreach (var e in groups.SelectMany(g => g))
        {
            extractor.Process(e, items);
        }

        return items;
    }

    /// <summary>Feeds items to a tracker as the capture does; acknowledges every change at once when <paramref name="ack"/>.</summary>
    private static void Track(CommitTracker tracker, IEnumerable<CaptureItem> items, bool ack)
    {
        foreach (var item in items)
        {
            switch (item)
            {
                case TransactionBegan began:
                    tracker.Began(began);
                    break;
                case ChangeCaptured captured:
                    tracker.Emitted(captured.TransactionId, captured.RowOrdinal);
                    if (ack)
                    {
                        tracker.Completed(captured.TransactionId, captured.RowOrdinal);
                    }

                    break;
                case RowsCounted counted:
                    tracker.RowsSeen(counted.TransactionId, counted.RowsSeen);
                    break;
                case TransactionEnded ended:
                    tracker.Ended(ended);
                    break;
                case TransactionPrepared prepared:
                    tracker.Prepared(prepared);
                    break;
                case XaResolved resolved:
                    tracker.Resolved(resolved);
                    break;
            }
        }
    }

    private static List<string> Pks(IEnumerable<CaptureItem> items) => items.OfType<ChangeCaptured>().Select(c => c.Change.Key.Canonical).ToList();

    [Fact]
    public void A_prepared_xa_holds_its_rows_until_its_commit_and_they_go_out_as_rows_of_the_prepare()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var prepare = Run(extractor, MariaDbPrepare(100, 5, X1, 1, 2));
        Assert.Empty(prepare.OfType<ChangeCaptured>());
        Assert.IsType<TransactionPrepared>(prepare[^1]);
        Assert.False(extractor.InTransaction);
        Assert.Equal(1, extractor.PreparedXaCount);
        var prepareId = Assert.IsType<TransactionBegan>(prepare[0]).TransactionId;

        var between = Run(extractor, Plain(200, 6, 3));
        Assert.Equal(["3"], Pks(between));

        var commit = Run(extractor, MariaDbOutcome(300, 7, X1, commit: true));
        var released = commit.OfType<ChangeCaptured>().ToList();
        Assert.Equal(["1", "2"], released.Select(c => c.Change.Key.Canonical));
        Assert.All(released, c => Assert.Equal(prepareId, c.TransactionId));
        Assert.Equal([0, 1], released.Select(c => c.RowOrdinal));
        var resolved = Assert.Single(commit.OfType<XaResolved>());
        Assert.True(resolved.Committed);
        Assert.Equal(2, resolved.RowsSeen);
        Assert.IsType<TransactionEnded>(commit[^1]);
        Assert.Equal(0, extractor.PreparedXaCount);
    }

    [Fact]
    public void A_rolled_back_xa_emits_nothing_and_the_offset_moves_to_the_end()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var tracker = new CommitTracker(new SourceOffset(new BinlogPosition(File, 4), 0, null));
        var items = Run(extractor, MariaDbPrepare(100, 5, X1, 1), MariaDbOutcome(300, 6, X1, commit: false));
        Assert.Empty(items.OfType<ChangeCaptured>());
        Assert.False(Assert.Single(items.OfType<XaResolved>()).Committed);
        Track(tracker, items, ack: true);
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 320), 0, "0-1-6"), tracker.Offset);
        Assert.Equal(0, tracker.OpenTransactions);
    }

    [Fact]
    public void The_offset_stays_at_a_pending_prepare_until_its_commit_is_read_and_its_rows_are_finished()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var tracker = new CommitTracker(new SourceOffset(new BinlogPosition(File, 4), 0, null));
        Track(tracker, Run(extractor, Plain(20, 4, 9)), ack: true);
        Track(tracker, Run(extractor, MariaDbPrepare(100, 5, X1, 1, 2)), ack: true);
        Track(tracker, Run(extractor, Plain(200, 6, 3)), ack: true);
        var atPrepare = new SourceOffset(new BinlogPosition(File, 100), 0, "0-1-4");
        Assert.Equal(atPrepare, tracker.Offset);

        var commit = Run(extractor, MariaDbOutcome(300, 7, X1, commit: true));
        Track(tracker, commit, ack: false);
        Assert.Equal(atPrepare, tracker.Offset);
        var released = commit.OfType<ChangeCaptured>().ToList();
        tracker.Completed(released[0].TransactionId, released[0].RowOrdinal);
        Assert.Equal(atPrepare with { SkipRows = 1 }, tracker.Offset);
        tracker.Completed(released[1].TransactionId, released[1].RowOrdinal);
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 320), 0, "0-1-7"), tracker.Offset);
    }

    [Fact]
    public void The_offset_stays_at_a_committed_prepare_until_its_commit_group_settles_so_a_restart_never_reads_the_commit_alone()
    {
        // A prepare, a plain transaction still in flight, then the XA COMMIT; the prepare's rows are finished first.
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var tracker = new CommitTracker(new SourceOffset(new BinlogPosition(File, 4), 0, null));
        Track(tracker, Run(extractor, Plain(20, 4, 9)), ack: true);
        Track(tracker, Run(extractor, MariaDbPrepare(100, 5, X1, 1, 2)), ack: true);
        var inFlight = Run(extractor, Plain(200, 6, 3));
        Track(tracker, inFlight, ack: false);
        var commit = Run(extractor, MariaDbOutcome(300, 7, X1, commit: true));
        Track(tracker, commit, ack: true);

        // Saved now, the offset must still lead a restart through the prepare: past it, the
        // XA COMMIT would be read alone and its rows taken for lost.
        var saved = tracker.Offset!;
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 100), 2, "0-1-4"), saved);

        var resumed = new ChangeExtractor("src", TableFilter.All, resume: new ResumePoint(saved.Position, saved.SkipRows), gtids: MariaDbGtidPosition.Parse(saved.Gtid!));
        var again = Run(resumed, MariaDbPrepare(100, 5, X1, 1, 2), Plain(200, 6, 3), MariaDbOutcome(300, 7, X1, commit: true));
        Assert.Empty(again.OfType<CaptureWarning>());
        Assert.Equal(["3"], Pks(again));
        Assert.True(Assert.Single(again.OfType<XaResolved>()).Committed);

        // Once the transaction in between is finished, the offset moves past the commit group.
        var row = Assert.Single(inFlight.OfType<ChangeCaptured>());
        tracker.Completed(row.TransactionId, row.RowOrdinal);
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 320), 0, "0-1-7"), tracker.Offset);
        Assert.Equal(0, tracker.OpenTransactions);
    }

    [Fact]
    public void Nested_prepares_settle_only_when_the_last_commit_group_they_span_has_settled()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var tracker = new CommitTracker(new SourceOffset(new BinlogPosition(File, 4), 0, null));
        var x2 = new XaId(1, "x2"u8, []);
        Track(tracker, Run(extractor, MariaDbPrepare(100, 5, X1, 1), MariaDbPrepare(200, 6, x2, 2), MariaDbOutcome(300, 7, X1, commit: true)), ack: true);

        // X1 is committed and finished, but X2's prepare, between it and its commit group, is
        // pending: the commit group cannot settle, so neither can X1's prepare.
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 100), 1, null), tracker.Offset);
        Track(tracker, Run(extractor, MariaDbOutcome(400, 8, x2, commit: false)), ack: true);
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 420), 0, "0-1-8"), tracker.Offset);
    }

    [Fact]
    public void A_prepare_over_the_bound_holds_nothing_and_its_commit_asks_for_a_reread_that_emits_its_rows_as_they_are_read()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All) { MaxHeldChanges = 3 };
        var tracker = new CommitTracker(new SourceOffset(new BinlogPosition(File, 4), 0, null));
        var prepare = Run(extractor, MariaDbPrepare(100, 5, X1, 1, 2, 3, 4, 5));
        Assert.Contains("max-held-xa-changes", Assert.Single(prepare.OfType<CaptureWarning>()).Message);
        Assert.Equal(0, extractor.HeldChanges);
        Track(tracker, prepare, ack: true);
        Track(tracker, Run(extractor, Plain(200, 6, 9)), ack: true);

        var commit = Run(extractor, MariaDbOutcome(300, 7, X1, commit: true));
        Assert.Empty(commit.OfType<ChangeCaptured>());
        Assert.Empty(commit.OfType<XaResolved>());
        var reread = Assert.Single(commit.OfType<XaRereadNeeded>());
        Assert.Equal(new BinlogPosition(File, 100), reread.PrepareAt);
        Assert.True(reread.Committed);

        // The offset never passed the prepare, so reading again from it with the outcome known emits its rows as they come.
        var offset = tracker.Offset!;
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 100), 0, null), offset);
        var again = new ChangeExtractor("src", TableFilter.All, resume: new ResumePoint(offset.Position, offset.SkipRows))
        {
            MaxHeldChanges = 3,
            KnownXaOutcomes = new Dictionary<BinlogPosition, XaOutcome> { [reread.PrepareAt] = new(reread.Xid, true) },
        };
        var fresh = new CommitTracker(offset);
        var prepareAgain = Run(again, MariaDbPrepare(100, 5, X1, 1, 2, 3, 4, 5));
        Assert.Equal(["1", "2", "3", "4", "5"], Pks(prepareAgain));
        Assert.Empty(prepareAgain.OfType<CaptureWarning>());
        var rest = Run(again, Plain(200, 6, 9), MariaDbOutcome(300, 7, X1, commit: true));
        Assert.Equal(["9"], Pks(rest));
        Assert.Empty(rest.OfType<XaRereadNeeded>());
        Assert.True(Assert.Single(rest.OfType<XaResolved>()).Committed);
        Track(fresh, prepareAgain.Concat(rest), ack: true);
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 320), 0, "0-1-7"), fresh.Offset);
    }

    [Fact]
    public void The_bound_spans_every_pending_prepare_and_a_rolled_back_prepare_over_it_needs_no_reread()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All) { MaxHeldChanges = 3 };
        var x2 = new XaId(1, "x2"u8, []);
        var items = Run(extractor, MariaDbPrepare(100, 5, X1, 1, 2), MariaDbPrepare(200, 6, x2, 3, 4));
        Assert.Single(items.OfType<CaptureWarning>());
        Assert.Equal(2, extractor.HeldChanges);

        var rollback = Run(extractor, MariaDbOutcome(300, 7, x2, commit: false));
        Assert.Empty(rollback.OfType<XaRereadNeeded>());
        Assert.False(Assert.Single(rollback.OfType<XaResolved>()).Committed);
        var commit = Run(extractor, MariaDbOutcome(400, 8, X1, commit: true));
        Assert.Equal(["1", "2"], Pks(commit));
        Assert.Equal(0, extractor.HeldChanges);
        Assert.Equal(0, extractor.HeldBytes);
    }

    [Fact]
    public void A_prepare_of_300000_rows_keeps_at_most_the_bound_in_memory()
    {
        // With the defaults of replicator.capture.max-held-xa-changes and max-held-xa-bytes.
        var extractor = new ChangeExtractor("src", TableFilter.All) { MaxHeldChanges = 50_000, MaxHeldBytes = 32L << 20 };
        var items = new List<CaptureItem>();
        extractor.Process(new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, 100), File, 0, 5, 0x4c, null, X1), items);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var e = 0; e < 300; e++)
        {
            items.Clear();
            extractor.Process(Insert(1000 + (e * 10), Enumerable.Range(e * 1000, 1000).Select(i => (long)i).ToArray()), items);
        }

        items.Clear();
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(extractor.HeldChanges <= 50_000, $"{extractor.HeldChanges} changes held");
        Assert.True(held < 48L << 20, $"{held:N0} bytes held after a 300,000-row prepare");
        GC.KeepAlive(extractor);
    }

    [Fact]
    public void A_restart_at_a_pending_prepare_holds_its_rows_again_and_emits_them_at_the_commit()
    {
        // Stopped after the prepare and a later transaction: the offset is the prepare's start.
        var extractor = new ChangeExtractor("src", TableFilter.All, resume: new ResumePoint(new BinlogPosition(File, 100), 0), gtids: MariaDbGtidPosition.Parse("0-1-4"));
        var items = Run(extractor, MariaDbPrepare(100, 5, X1, 1, 2), Plain(200, 6, 3), MariaDbOutcome(300, 7, X1, commit: true));
        Assert.Equal(["3", "1", "2"], Pks(items));

        // Stopped after one of its released rows was finished: that one is not emitted again.
        var resumed = new ChangeExtractor("src", TableFilter.All, resume: new ResumePoint(new BinlogPosition(File, 100), 1));
        var tracker = new CommitTracker(new SourceOffset(new BinlogPosition(File, 100), 1, null));
        var again = Run(resumed, MariaDbPrepare(100, 5, X1, 1, 2));
        Track(tracker, again, ack: true);
        Assert.Equal(new SourceOffset(new BinlogPosition(File, 100), 1, null), tracker.Offset);
        Assert.Equal(["3", "2"], Pks(Run(resumed, Plain(200, 6, 3), MariaDbOutcome(300, 7, X1, commit: true))));
    }

    [Fact]
    public void Mysql_logs_xa_start_as_a_statement_and_commits_one_phase_at_its_xa_prepare_event()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var xid = new XaId(1, "g"u8, "b"u8);
        BinlogEvent Gtid(long at) => new MySqlGtidEvent(H(BinlogEventType.Gtid, at), File, Guid.Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562"), at, null, 0, 0, 0, null, null);
        var prepare = Run(extractor,
        [
            Gtid(100),
            Query(110, $"XA START {xid}"),
            Insert(120, 1),
            Query(130, $"XA END {xid}"),
            new XaPrepareEvent(H(BinlogEventType.XaPrepare, 140), File, OnePhase: false, xid),
        ]);
        Assert.Empty(prepare.OfType<ChangeCaptured>());
        Assert.IsType<TransactionPrepared>(prepare[^1]);

        var onePhase = Run(extractor,
        [
            Gtid(200),
            Query(210, "XA START X'6f6e65',X'',1"),
            Insert(220, 5),
            Query(230, "XA END X'6f6e65',X'',1"),
            new XaPrepareEvent(H(BinlogEventType.XaPrepare, 240), File, OnePhase: true, new XaId(1, "one"u8, [])),
        ]);
        Assert.Equal(["5"], Pks(onePhase));
        Assert.IsType<TransactionEnded>(onePhase[^1]);

        var commit = Run(extractor, [Gtid(300), Query(310, $"XA COMMIT {xid}")]);
        Assert.Equal(["1"], Pks(commit));
        Assert.IsType<TransactionEnded>(commit[^1]);
        Assert.False(extractor.InTransaction);
    }

    [Fact]
    public void An_outcome_whose_prepare_was_not_read_is_said_and_an_unended_group_never_holds_the_offset()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var outcome = Run(extractor, MariaDbOutcome(300, 7, X1, commit: true));
        Assert.Contains("was not read", Assert.Single(outcome.OfType<CaptureWarning>()).Message);
        Assert.IsType<TransactionEnded>(outcome[^1]);

        // A group whose end never comes (an end event this reader does not know): the next group closes it.
        var tracker = new CommitTracker(null);
        var items = Run(extractor,
            [new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, 400), File, 0, 8, 0x0c, null), Query(410, "BEGIN"), Insert(420, 1)],
            Plain(500, 9, 2));
        Assert.Contains("has no end", Assert.Single(items.OfType<CaptureWarning>()).Message);
        Assert.Equal(["1", "2"], Pks(items));
        Track(tracker, items, ack: true);
        Assert.Equal(new BinlogPosition(File, 540), tracker.Offset!.Position);
    }
}
