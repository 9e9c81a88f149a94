using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Schema;

namespace Replicator.Engine.Tests.Capture;

/// <summary>
/// Rows whose column names were read from information_schema (no binlog_row_metadata=FULL) after a
/// DDL on their table that was logged after them are not labelled with those names.
/// </summary>
public sealed class NamesAsOfExtractionTests
{
    private const string File = "mariadb-bin.000003";

    private static TableSchema Orders(BinlogPosition? namesAsOf) => new(
        "shop",
        "orders",
        [new ColumnDefinition("id", ColumnType.Long, 0, false), new ColumnDefinition("a", ColumnType.Long, 0, true), new ColumnDefinition("b", ColumnType.Long, 0, true)],
        [0])
    {
        NamesAsOf = namesAsOf,
    };

    private static EventHeader H(BinlogEventType type, long position, long size = 10) =>
        new(1_767_225_600, type, 1, (uint)size, (uint)(position + size), 0);

    /// <summary>An insert of (1, 11, 21) at 120, in a transaction at 100.</summary>
    private static BinlogEvent[] InsertAt120(TableSchema table) =>
    [
        new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, 100), File, 0, 7, 0x0c, null),
        new QueryEvent(H(BinlogEventType.Query, 110), File, 1, 0, 0, "shop", "BEGIN"),
        new RowsEvent(H(BinlogEventType.WriteRowsV1, 120), File, RowsEventKind.Write, 42, table, 1, [new RowImage(null, [ColumnValue.FromInt64(1), ColumnValue.FromInt64(11), ColumnValue.FromInt64(21)])]),
        new XidEvent(H(BinlogEventType.Xid, 130), File, 99),
    ];

    private static DdlHistory SwapAt500()
    {
        var history = new DdlHistory();
        history.Scanned(new BinlogPosition(File, 100), new BinlogPosition(File, 900), DdlHistory.Of("ALTER TABLE orders RENAME COLUMN a TO tmp", "shop", new BinlogPosition(File, 500), new BinlogPosition(File, 560)));
        return history;
    }

    private static List<CaptureItem> Run(ChangeExtractor extractor, IEnumerable<BinlogEvent> events)
    {
        var items = new List<CaptureItem>();
        foreach (var e in events)
        {
            extractor.Process(e, items);
        }

        return items;
    }

    [Fact]
    public void Rows_before_a_ddl_whose_names_were_read_after_it_stop_their_table_with_the_ddl_and_the_fix()
    {
        var extractor = new ChangeExtractor("src", new TableFilter(["shop.*"]), pauseUnmappable: true) { SchemaHistory = SwapAt500() };

        var items = Run(extractor, InsertAt120(Orders(new BinlogPosition(File, 900))));

        Assert.Empty(items.OfType<ChangeCaptured>());
        var paused = Assert.Single(items.OfType<TablePaused>());
        Assert.Equal("shop.orders", paused.Table);
        Assert.Equal(0, paused.RowOrdinal);
        Assert.Contains("mariadb-bin.000003:120", paused.Reason);
        Assert.Contains("ALTER TABLE orders RENAME COLUMN a TO tmp at mariadb-bin.000003:500", paused.Reason);
        Assert.Contains("binlog_row_metadata=FULL", paused.Fix);
        Assert.Contains("at or after mariadb-bin.000003:560", paused.Fix);
        Assert.Contains("replicator.sources.src.resynced-through", paused.Fix);
        Assert.Equal(1, items.OfType<RowsCounted>().Last().RowsSeen);
    }

    [Fact]
    public void Names_read_before_the_ddl_or_from_the_event_label_the_rows()
    {
        var readBefore = Run(new ChangeExtractor("src", TableFilter.All, pauseUnmappable: true) { SchemaHistory = SwapAt500() }, InsertAt120(Orders(new BinlogPosition(File, 400))));
        var fromEvent = Run(new ChangeExtractor("src", TableFilter.All, pauseUnmappable: true) { SchemaHistory = SwapAt500() }, InsertAt120(Orders(null)));

        foreach (var items in new[] { readBefore, fromEvent })
        {
            Assert.Empty(items.OfType<TablePaused>());
            var change = Assert.Single(items.OfType<ChangeCaptured>()).Change;
            Assert.Equal(["id", "a", "b"], change.After!.Names);
        }
    }

    [Fact]
    public void Rows_before_resynced_through_past_the_ddl_are_taken_as_resynced_and_skipped()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All, pauseUnmappable: true)
        {
            SchemaHistory = SwapAt500(),
            ResyncedThrough = new BinlogPosition(File, 560),
        };

        var items = Run(extractor, InsertAt120(Orders(new BinlogPosition(File, 900))));

        Assert.Empty(items.OfType<TablePaused>());
        Assert.Empty(items.OfType<ChangeCaptured>());
        Assert.Contains("resynced through mariadb-bin.000003:560", Assert.Single(items.OfType<CaptureWarning>()).Message);
        Assert.Equal(1, Assert.IsType<TransactionEnded>(items[^1]).RowsSeen);
    }

    [Fact]
    public void A_stretch_not_scanned_for_ddl_stops_the_table_rather_than_guess()
    {
        var history = new DdlHistory();
        history.Scanned(new BinlogPosition(File, 300), new BinlogPosition(File, 900), []);

        var items = Run(new ChangeExtractor("src", TableFilter.All, pauseUnmappable: true) { SchemaHistory = history }, InsertAt120(Orders(new BinlogPosition(File, 900))));

        Assert.Empty(items.OfType<ChangeCaptured>());
        Assert.Contains("is not known", Assert.Single(items.OfType<TablePaused>()).Reason);
    }
}
