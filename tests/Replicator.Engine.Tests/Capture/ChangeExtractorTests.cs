using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Model;

namespace Replicator.Engine.Tests.Capture;

public sealed class ChangeExtractorTests
{
    private const string File = "mariadb-bin.000003";

    private static readonly TableSchema Orders = new(
        "shop",
        "orders",
        [new ColumnDefinition("id", ColumnType.Long, 0, false), new ColumnDefinition("v", ColumnType.Long, 0, true)],
        [0]);

    private static EventHeader H(BinlogEventType type, long position, long size = 10) =>
        new(1_767_225_600, type, 1, (uint)size, (uint)(position + size), 0);

    private static ColumnValue[] Row(long id, long v) => [ColumnValue.FromInt64(id), ColumnValue.FromInt64(v)];

    private static RowsEvent Rows(long position, RowsEventKind kind, params RowImage[] rows) =>
        new(H(kind switch { RowsEventKind.Write => BinlogEventType.WriteRowsV1, RowsEventKind.Update => BinlogEventType.UpdateRowsV1, _ => BinlogEventType.DeleteRowsV1 }, position), File, kind, 42, Orders, 1, rows);

    private static IEnumerable<BinlogEvent> Transaction(long start, ulong sequence, params RowsEvent[] rows)
    {
        yield return new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, start), File, 0, sequence, 0x0c, null);
        yield return new QueryEvent(H(BinlogEventType.Query, start + 10), File, 1, 0, 0, "shop", "BEGIN");
        foreach (var r in rows)
        {
            yield return r;
        }

        yield return new XidEvent(H(BinlogEventType.Xid, rows[^1].Header.Position + 10), File, 99);
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
    public void A_transaction_becomes_changes_between_its_boundaries_with_topics_and_versions()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var items = Run(extractor, Transaction(100, 7,
            Rows(120, RowsEventKind.Write, new RowImage(null, Row(1, 10)), new RowImage(null, Row(2, 20))),
            Rows(130, RowsEventKind.Update, new RowImage(Row(1, 10), Row(1, 11)))));

        var began = Assert.IsType<TransactionBegan>(items[0]);
        Assert.Equal(new BinlogPosition(File, 100), began.RestartPoint);
        var changes = items.OfType<ChangeCaptured>().ToList();
        Assert.Equal(["orders_write", "orders_write", "orders_update"], changes.Select(c => c.Change.Topic));
        Assert.Equal([0, 1, 2], changes.Select(c => c.RowOrdinal));
        Assert.Equal("0-1-7", changes[0].Change.Position.Gtid);
        Assert.True(changes[0].Change.Version < changes[1].Change.Version);
        Assert.True(changes[1].Change.Version < changes[2].Change.Version);
        var ended = Assert.IsType<TransactionEnded>(items[^1]);
        Assert.Equal(3, ended.RowsSeen);
        Assert.Equal(new BinlogPosition(File, 150), ended.NextPosition);
        Assert.Equal("0-1-7", ended.GtidAfter);
    }

    [Fact]
    public void A_pk_changing_update_becomes_a_delete_of_the_old_pk_and_a_write_of_the_new()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var items = Run(extractor, Transaction(100, 1, Rows(120, RowsEventKind.Update, new RowImage(Row(1, 10), Row(1001, 10)))));
        var changes = items.OfType<ChangeCaptured>().ToList();
        Assert.Equal(2, changes.Count);
        Assert.Equal(ChangeAction.Delete, changes[0].Change.Action);
        Assert.Equal("1", changes[0].Change.Key.Canonical);
        Assert.Equal(ChangeAction.Write, changes[1].Change.Action);
        Assert.Equal("1001", changes[1].Change.Key.Canonical);
        Assert.All(changes, c => Assert.Equal(0, c.RowOrdinal));
    }

    [Fact]
    public void Resuming_inside_a_transaction_skips_the_rows_already_handled()
    {
        var events = Transaction(100, 1, Rows(120, RowsEventKind.Write, new RowImage(null, Row(1, 1)), new RowImage(null, Row(2, 2)), new RowImage(null, Row(3, 3)))).ToList();
        var resumed = new ChangeExtractor("src", TableFilter.All, resume: new ResumePoint(new BinlogPosition(File, 100), 2));
        var changes = Run(resumed, events).OfType<ChangeCaptured>().ToList();
        var only = Assert.Single(changes);
        Assert.Equal("3", only.Change.Key.Canonical);
        Assert.Equal(2, only.RowOrdinal);
    }

    [Fact]
    public void Rows_of_tables_outside_the_filter_are_counted_but_not_emitted()
    {
        var extractor = new ChangeExtractor("src", new TableFilter(["other.*"]));
        var items = Run(extractor, Transaction(100, 1, Rows(120, RowsEventKind.Write, new RowImage(null, Row(1, 1)))));
        Assert.Empty(items.OfType<ChangeCaptured>());
        Assert.Equal(1, Assert.IsType<TransactionEnded>(items[^1]).RowsSeen);
    }

    [Fact]
    public void A_table_without_a_key_is_refused_with_a_message_naming_it_unless_key_columns_are_configured()
    {
        var keyless = new TableSchema("shop", "events", Orders.Columns, []);
        var rows = new RowsEvent(H(BinlogEventType.WriteRowsV1, 120), File, RowsEventKind.Write, 43, keyless, 1, [new RowImage(null, Row(1, 1))]);
        var error = Assert.Throws<MissingKeyException>(() => Run(new ChangeExtractor("src", TableFilter.All), Transaction(100, 1, rows)));
        Assert.Contains("shop.events", error.Message);
        Assert.Contains("key-columns", error.Message);

        var configured = new ChangeExtractor("src", TableFilter.All, new Dictionary<string, IReadOnlyList<string>> { ["shop.events"] = ["v"] });
        var change = Assert.Single(Run(configured, Transaction(100, 1, rows)).OfType<ChangeCaptured>());
        Assert.Equal("v", Assert.Single(change.Change.Key.Names));
    }

    [Fact]
    public void A_ddl_statement_is_a_group_of_its_own_and_names_the_table_it_changed()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var items = Run(extractor,
        [
            new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, 100), File, 0, 9, 0x21, null),
            new QueryEvent(H(BinlogEventType.Query, 110), File, 1, 0, 0, "shop", "ALTER TABLE `orders` ADD COLUMN x INT"),
        ]);
        Assert.IsType<TransactionBegan>(items[0]);
        var changed = Assert.Single(items.OfType<SchemaChanged>());
        Assert.Equal(("shop", "orders"), (changed.Schema, changed.Table));
        Assert.IsType<TransactionEnded>(items[^1]);
        Assert.False(extractor.InTransaction);
    }

    [Theory]
    [InlineData("ALTER TABLE `orders` ADD COLUMN x INT", "shop", "orders")]
    [InlineData("ALTER TABLE orders ADD COLUMN x INT, ADD COLUMN y INT", "shop", "orders")]
    [InlineData("alter online table `other`.`ord``ers` drop column v", "other", "ord`ers")]
    [InlineData("CREATE TABLE IF NOT EXISTS `my.db`.t (id INT PRIMARY KEY)", "my.db", "t")]
    [InlineData("CREATE OR REPLACE TABLE t2 (id INT)", "shop", "t2")]
    [InlineData("/* note */ DROP TABLE IF EXISTS `t3` /* generated by server */", "shop", "t3")]
    [InlineData("TRUNCATE orders", "shop", "orders")]
    [InlineData("TRUNCATE TABLE shop.orders", "shop", "orders")]
    [InlineData("DROP TABLE a, b", null, null)]
    [InlineData("RENAME TABLE orders TO orders_old, orders_new TO orders", null, null)]
    [InlineData("ALTER TABLE orders RENAME TO orders2", null, null)]
    [InlineData("DROP DATABASE shop", null, null)]
    [InlineData("CREATE INDEX i ON orders (v)", null, null)]
    public void A_ddl_statement_names_the_table_it_changed_or_every_table_when_it_may_touch_several(string sql, string? schema, string? table)
    {
        var items = Run(new ChangeExtractor("src", TableFilter.All), [new QueryEvent(H(BinlogEventType.Query, 110), File, 1, 0, 0, "shop", sql)]);
        var changed = Assert.Single(items.OfType<SchemaChanged>());
        Assert.Equal((schema, table), (changed.Schema, changed.Table));
    }

    [Theory]
    [InlineData("GRANT SELECT ON *.* TO x")]
    [InlineData("INSERT INTO orders VALUES (1, 2)")]
    [InlineData("SAVEPOINT createx")]
    public void A_statement_that_is_not_ddl_changes_no_schema(string sql)
    {
        var items = Run(new ChangeExtractor("src", TableFilter.All), [new QueryEvent(H(BinlogEventType.Query, 110), File, 1, 0, 0, "shop", sql)]);
        Assert.Empty(items.OfType<SchemaChanged>());
    }

    [Fact]
    public void Rows_of_a_table_the_schema_source_could_not_map_fail_naming_the_table_and_position()
    {
        var unmapped = new TableSchema("shop", "orders", [new ColumnDefinition("@1", ColumnType.Long, 0, false), new ColumnDefinition("@2", ColumnType.Long, 0, true)], [])
        {
            MappingProblem = "information_schema describes shop.orders with 3 columns but the binlog's TABLE_MAP has 2.",
        };
        var rows = new RowsEvent(H(BinlogEventType.WriteRowsV1, 120), File, RowsEventKind.Write, 42, unmapped, 1, [new RowImage(null, Row(1, 1))]);
        var error = Assert.Throws<TableMappingException>(() => Run(new ChangeExtractor("src", TableFilter.All, allowKeyless: true), Transaction(100, 1, rows)));
        Assert.Equal("shop.orders", error.Table);
        Assert.Contains("shop.orders at mariadb-bin.000003:120", error.Message);
        Assert.Contains("3 columns", error.Message);

        var ignored = Run(new ChangeExtractor("src", new TableFilter(["other.*"])), Transaction(100, 1, rows));
        Assert.Empty(ignored.OfType<ChangeCaptured>());
    }

    [Fact]
    public void A_rotate_between_transactions_reports_the_new_position()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All);
        var items = Run(extractor, [new RotateEvent(H(BinlogEventType.Rotate, 0), "", "mariadb-bin.000004", 4)]);
        Assert.Equal(new BinlogPosition("mariadb-bin.000004", 4), Assert.IsType<Positioned>(Assert.Single(items)).Position);
        Assert.Equal("mariadb-bin.000004", extractor.File);
    }

    private static readonly TableSchema Docs = new(
        "shop",
        "docs",
        [new ColumnDefinition("id", ColumnType.Long, 0, false), new ColumnDefinition("doc", ColumnType.Json, 4, true, IsJson: true)],
        [0]);

    private static RowsEvent PartialUpdate(ColumnValue[]? before) =>
        new(H(BinlogEventType.PartialUpdateRows, 120), File, RowsEventKind.Update, 44, Docs, 1,
            [new RowImage(before, [ColumnValue.FromInt64(1), ColumnValue.FromJsonDiff([new JsonDiff(JsonDiffOperation.Replace, "$.age", "26")])])]);

    [Fact]
    public void A_partial_json_update_is_applied_to_the_before_document()
    {
        var before = new[] { ColumnValue.FromInt64(1), ColumnValue.FromJson("{\"age\": 25, \"name\": \"Joe\"}") };
        var change = Assert.Single(Run(new ChangeExtractor("src", TableFilter.All, strictPartialJson: true), Transaction(100, 1, PartialUpdate(before))).OfType<ChangeCaptured>());
        var doc = change.Change.After!["doc"];
        Assert.Equal(ValueKind.Json, doc.Kind);
        Assert.Equal(26, System.Text.Json.Nodes.JsonNode.Parse(doc.AsString()!)!["age"]!.GetValue<int>());
        Assert.Equal("Joe", System.Text.Json.Nodes.JsonNode.Parse(doc.AsString()!)!["name"]!.GetValue<string>());
    }

    [Fact]
    public void A_partial_json_update_without_its_before_document_fails_the_table_loudly_in_capture_and_keeps_the_diff_in_tail()
    {
        var minimal = new[] { ColumnValue.FromInt64(1), ColumnValue.Absent };
        var error = Assert.Throws<TableMappingException>(() => Run(new ChangeExtractor("src", TableFilter.All, strictPartialJson: true), Transaction(100, 1, PartialUpdate(minimal))));
        Assert.Contains("shop.docs.doc", error.Message);
        Assert.Contains("binlog_row_image=FULL", error.Message);

        var kept = Assert.Single(Run(new ChangeExtractor("src", TableFilter.All), Transaction(100, 1, PartialUpdate(minimal))).OfType<ChangeCaptured>());
        Assert.Equal(ValueKind.JsonDiff, kept.Change.After!["doc"].Kind);

        var paused = Run(new ChangeExtractor("src", TableFilter.All, pauseUnmappable: true, strictPartialJson: true), Transaction(100, 1, PartialUpdate(minimal)));
        Assert.Empty(paused.OfType<ChangeCaptured>());
        Assert.Equal("shop.docs", Assert.Single(paused.OfType<TablePaused>()).Table);
    }

    [Fact]
    public void Dml_logged_as_a_statement_stops_its_table_at_that_point_unless_it_is_before_resynced_through()
    {
        BinlogEvent[] statementTransaction =
        [
            new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, 100), File, 0, 9, 0x0c, null),
            new QueryEvent(H(BinlogEventType.Query, 110), File, 1, 0, 0, "shop", "BEGIN"),
            new QueryEvent(H(BinlogEventType.Query, 120), File, 1, 0, 0, "shop", "UPDATE orders o JOIN other.t x ON x.id = o.id SET o.v = x.v"),
            new XidEvent(H(BinlogEventType.Xid, 130), File, 99),
        ];
        var extractor = new ChangeExtractor("src", new TableFilter(["shop.*"]), pauseUnmappable: true);
        var items = Run(extractor, statementTransaction.Concat(Transaction(200, 10, Rows(220, RowsEventKind.Write, new RowImage(null, Row(5, 5))))));
        var paused = Assert.Single(items.OfType<TablePaused>());
        Assert.Equal("shop.orders", paused.Table);
        Assert.Contains("mariadb-bin.000003:120", paused.Reason);
        Assert.Contains("binlog_format=ROW", paused.Fix);
        Assert.Contains("at or after mariadb-bin.000003:130", paused.Fix);
        Assert.Contains("replicator.sources.src.resynced-through", paused.Fix);
        Assert.Empty(items.OfType<ChangeCaptured>());
        Assert.True(extractor.PausedTables.ContainsKey("shop.orders"));

        var resynced = new ChangeExtractor("src", new TableFilter(["shop.*"]), pauseUnmappable: true) { ResyncedThrough = new BinlogPosition(File, 130) };
        var after = Run(resynced, statementTransaction.Concat(Transaction(200, 10, Rows(220, RowsEventKind.Write, new RowImage(null, Row(5, 5))))));
        Assert.Empty(after.OfType<TablePaused>());
        Assert.Contains("resynced-through", Assert.Single(after.OfType<CaptureWarning>()).Message);
        Assert.Single(after.OfType<ChangeCaptured>());
    }

    [Theory]
    [InlineData("TRUNCATE TABLE orders", "TRUNCATE emptied it")]
    [InlineData("DROP TABLE IF EXISTS `orders` /* generated by server */", "DROP TABLE removed it")]
    [InlineData("RENAME TABLE orders TO orders_old", "renamed to shop.orders_old")]
    [InlineData("ALTER TABLE orders DROP PRIMARY KEY, ADD PRIMARY KEY (id, v)", "primary key changed")]
    [InlineData("ALTER TABLE orders EXCHANGE PARTITION p0 WITH TABLE swap", "partition operation")]
    public void Ddl_that_changes_a_captured_tables_rows_without_row_events_stops_it_loudly(string sql, string reason)
    {
        var extractor = new ChangeExtractor("src", new TableFilter(["shop.orders"]), pauseUnmappable: true);
        var items = Run(extractor, [new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, 100), File, 0, 9, 0x21, null), new QueryEvent(H(BinlogEventType.Query, 110), File, 1, 0, 0, "shop", sql)]);
        var paused = Assert.Single(items.OfType<TablePaused>());
        Assert.Equal("shop.orders", paused.Table);
        Assert.Contains(reason, paused.Reason);
        Assert.Contains("mariadb-bin.000003:110", paused.Reason);
        Assert.Contains("resynced-through", paused.Fix);
        Assert.IsType<TransactionEnded>(items[^1]);

        // Another table's DDL stops nothing.
        var other = Run(new ChangeExtractor("src", new TableFilter(["shop.orders"]), pauseUnmappable: true), [new QueryEvent(H(BinlogEventType.Query, 110), File, 1, 0, 0, "shop", sql.Replace("orders", "items", StringComparison.Ordinal))]);
        Assert.Empty(other.OfType<TablePaused>());
    }

    [Fact]
    public void An_unexpected_failure_while_processing_an_event_names_its_type_file_and_position_and_skips_nothing()
    {
        // A rows event whose image holds fewer values than its table's columns: no decoder makes one, so it stands for a bug.
        var broken = new RowsEvent(H(BinlogEventType.WriteRowsV1, 120), File, RowsEventKind.Write, 42, Orders, 1, [new RowImage(null, [])]);
        var error = Assert.Throws<Binlog.Parsers.BinlogFormatException>(() => Run(new ChangeExtractor("src", TableFilter.All), Transaction(100, 1, broken)));
        Assert.Equal(File, error.File);
        Assert.Equal(120, error.Position);
        Assert.Contains("WriteRowsV1 event failed unexpectedly", error.Message);
        Assert.Contains("rather than skip the event", error.Message);
    }
}
