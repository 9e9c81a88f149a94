using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests;

/// <summary>The decoder's stream state and its failure modes: checksums, truncation, table ids.</summary>
public sealed class BinlogEventDecoderTests
{
    private static byte[] IntTableMap(EventBuilder b, ulong tableId, string table) =>
        b.TableMap(tableId, "shop", table, [ColumnType.Long], []);

    private static byte[] InsertInt(EventBuilder b, ulong tableId, int value) =>
        b.Rows(BinlogEventType.WriteRowsV2, tableId, 1, Concat([0x00], U32((uint)value)));

    [Fact]
    public void A_repeated_identical_table_map_reuses_its_schema_and_a_changed_one_does_not()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var first = Assert.IsType<TableMapEvent>(decoder.Decode(IntTableMap(b, 7, "orders"), EventBuilder.File));
        var again = Assert.IsType<TableMapEvent>(decoder.Decode(IntTableMap(b, 7, "orders"), EventBuilder.File));
        Assert.Same(first.Schema, again.Schema);
        Assert.True(again.Header.Position > first.Header.Position);

        var changed = Assert.IsType<TableMapEvent>(decoder.Decode(b.TableMap(7, "shop", "orders", [ColumnType.LongLong], []), EventBuilder.File));
        Assert.NotSame(first.Schema, changed.Schema);
        Assert.Equal(ColumnType.LongLong, changed.Schema.Columns[0].Type);
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Rows(BinlogEventType.WriteRowsV2, 7, 1, Concat([0x00], U64(5_000_000_000))), EventBuilder.File));
        Assert.Equal(5_000_000_000L, rows.Rows[0].After![0].AsInt64());
    }

    [Fact]
    public void A_repeated_table_map_goes_back_to_the_maps_own_schema_so_a_schema_source_is_asked_again()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var map = Assert.IsType<TableMapEvent>(decoder.Decode(IntTableMap(b, 7, "orders"), EventBuilder.File));
        var completed = new TableSchema("shop", "orders", [map.Schema.Columns[0] with { Name = "id" }], [0]);
        decoder.SetSchema(7, completed);
        Assert.Same(completed, decoder.GetSchema(7));

        var again = Assert.IsType<TableMapEvent>(decoder.Decode(IntTableMap(b, 7, "orders"), EventBuilder.File));
        Assert.Same(map.Schema, again.Schema);
        Assert.Same(map.Schema, decoder.GetSchema(7));
        decoder.SetSchema(7, completed);
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(InsertInt(b, 7, 42), EventBuilder.File));
        Assert.Same(completed, rows.Table);
    }

    [Fact]
    public void Crc_mismatch_throws_naming_file_and_position()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var start = b.Position;
        var xid = b.Xid(42);
        xid[EventHeader.Size] ^= 0x01;

        var error = Assert.Throws<BinlogFormatException>(() => decoder.Decode(xid, EventBuilder.File));
        Assert.Equal(EventBuilder.File, error.File);
        Assert.Equal(start, error.Position);
        Assert.Contains("CRC32", error.Message);
        Assert.Contains($"{EventBuilder.File} at position {start}", error.Message);
    }

    [Fact]
    public void Crc_mismatch_in_a_rows_event_never_yields_rows()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(IntTableMap(b, 7, "orders"), EventBuilder.File);
        var rows = InsertInt(b, 7, 1234);
        rows[^5] ^= 0xFF; // a data byte, not the CRC
        Assert.Throws<BinlogFormatException>(() => decoder.Decode(rows, EventBuilder.File));
    }

    [Fact]
    public void A_corrupted_format_description_checksum_is_detected()
    {
        var b = new EventBuilder();
        var fde = b.FormatDescription();
        fde[30] ^= 0x20; // inside the server version
        Assert.Throws<BinlogFormatException>(() => new BinlogEventDecoder().Decode(fde, EventBuilder.File));
    }

    [Fact]
    public void Checksum_verification_can_be_turned_off()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder(new BinlogDecoderOptions { VerifyChecksums = false });
        var xid = b.Xid(42);
        xid[^1] ^= 0xFF; // the CRC itself
        Assert.Equal(42UL, Assert.IsType<XidEvent>(decoder.Decode(xid, EventBuilder.File)).Xid);
    }

    [Fact]
    public void A_truncated_event_throws_a_format_exception()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var start = b.Position;
        var query = b.Query("shop", "BEGIN");
        var error = Assert.Throws<BinlogFormatException>(() => decoder.Decode(query.AsMemory(0, query.Length - 6), EventBuilder.File));
        Assert.Equal(start, error.Position);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_body_too_short_for_its_fields_throws_a_format_exception()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var start = b.Position;
        var xid = b.Event(BinlogEventType.Xid, U32(7)); // XID needs 8 bytes
        var error = Assert.Throws<BinlogFormatException>(() => decoder.Decode(xid, EventBuilder.File));
        Assert.Equal(start, error.Position);
        Assert.IsAssignableFrom<FormatException>(error.InnerException);
    }

    [Fact]
    public void An_event_shorter_than_its_header_throws()
    {
        Assert.Throws<BinlogFormatException>(() => new BinlogEventDecoder().Decode(new byte[10], EventBuilder.File));
    }

    [Fact]
    public void Table_id_reuse_after_rotate_binds_the_new_table()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(IntTableMap(b, 42, "orders"), EventBuilder.File);
        var before = Assert.IsType<RowsEvent>(decoder.Decode(InsertInt(b, 42, 1), EventBuilder.File));
        Assert.Equal("orders", before.Table.Table);

        decoder.Decode(b.Rotate("test-bin.000008"), EventBuilder.File);
        Assert.Equal(0, decoder.KnownTableCount);
        b.Position = 4;
        decoder.Decode(b.FormatDescription(), "test-bin.000008");

        // The old binding is gone: rows for id 42 without a new TABLE_MAP are an error, not "orders".
        Assert.Throws<BinlogFormatException>(() => decoder.Decode(InsertInt(b, 42, 2), "test-bin.000008"));

        decoder.Decode(b.TableMap(42, "shop", "customers", [ColumnType.VarChar], U16(40)), "test-bin.000008");
        var after = Assert.IsType<RowsEvent>(decoder.Decode(
            b.Rows(BinlogEventType.WriteRowsV2, 42, 1, Concat([0x00], [3], Utf8("Ann"))), "test-bin.000008"));
        Assert.Equal("customers", after.Table.Table);
        Assert.Equal("Ann", after.Rows[0].After![0].AsString());
    }

    [Fact]
    public void A_new_format_description_forgets_table_ids()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(IntTableMap(b, 9, "orders"), EventBuilder.File);
        Assert.Equal(1, decoder.KnownTableCount);
        decoder.Decode(b.FormatDescription(), EventBuilder.File);
        Assert.Equal(0, decoder.KnownTableCount);
    }

    [Fact]
    public void Rows_for_an_unknown_table_id_throw_naming_the_position()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var start = b.Position;
        var error = Assert.Throws<BinlogFormatException>(() => decoder.Decode(InsertInt(b, 1234, 5), EventBuilder.File));
        Assert.Equal(start, error.Position);
        Assert.Contains("1234", error.Message);
    }

    [Fact]
    public void An_empty_statement_end_with_the_dummy_table_id_is_not_an_error()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Rows(BinlogEventType.WriteRowsV2, 0xFFFF_FFFF_FFFF, 1, []), EventBuilder.File));
        Assert.Empty(rows.Rows);
        Assert.True(rows.IsStatementEnd);
    }

    [Fact]
    public void An_empty_rows_event_for_an_unknown_real_table_id_still_throws()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        Assert.Throws<BinlogFormatException>(() => decoder.Decode(b.Rows(BinlogEventType.WriteRowsV2, 77, 1, []), EventBuilder.File));
    }

    [Fact]
    public void Rows_with_a_different_column_count_than_the_map_throw()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(IntTableMap(b, 3, "orders"), EventBuilder.File);
        var rows = b.Rows(BinlogEventType.WriteRowsV2, 3, 2, Concat([0x00], U32(1), U32(2)));
        Assert.Throws<BinlogFormatException>(() => decoder.Decode(rows, EventBuilder.File));
    }

    [Theory]
    [InlineData(BinlogEventType.Intvar)]
    [InlineData(BinlogEventType.UserVar)]
    [InlineData(BinlogEventType.RowsQuery)]
    [InlineData((BinlogEventType)99)]
    [InlineData((BinlogEventType)200)]
    public void Unknown_event_types_are_kept_not_rejected(BinlogEventType type)
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var unknown = Assert.IsType<UnknownEvent>(decoder.Decode(b.Event(type, [1, 2, 3]), EventBuilder.File));
        Assert.Equal(new byte[] { 1, 2, 3 }, unknown.Body.ToArray());
        Assert.Equal(type, unknown.Type);
    }

    [Fact]
    public void Set_schema_renames_columns_for_later_rows()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var map = Assert.IsType<TableMapEvent>(decoder.Decode(IntTableMap(b, 5, "orders"), EventBuilder.File));
        Assert.Equal("@1", map.Schema.Columns[0].Name);
        Assert.False(map.Schema.HasColumnNames);

        var completed = new TableSchema("shop", "orders", [map.Schema.Columns[0] with { Name = "id", Unsigned = true }], [0]);
        decoder.SetSchema(5, completed);

        var rows = Assert.IsType<RowsEvent>(decoder.Decode(InsertInt(b, 5, -1), EventBuilder.File));
        Assert.Same(completed, rows.Table);
        Assert.Equal("id", rows.Table.Columns[0].Name);
        // The schema's UNSIGNED now applies: 0xFFFFFFFF is 4294967295, not -1.
        Assert.Equal(4294967295UL, rows.Rows[0].After![0].AsUInt64());
    }

    [Fact]
    public void Set_schema_refuses_a_schema_that_does_not_match_the_map()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(IntTableMap(b, 5, "orders"), EventBuilder.File);
        var wrongType = new TableSchema("shop", "orders", [new ColumnDefinition("id", ColumnType.VarChar, 40, false)], []);
        var wrongCount = new TableSchema("shop", "orders", [new ColumnDefinition("id", ColumnType.Long, 0, false), new ColumnDefinition("x", ColumnType.Long, 0, false)], []);
        Assert.Throws<ArgumentException>(() => decoder.SetSchema(5, wrongType));
        Assert.Throws<ArgumentException>(() => decoder.SetSchema(5, wrongCount));
        Assert.Throws<InvalidOperationException>(() => decoder.SetSchema(6, wrongType));
    }

    [Fact]
    public async Task Decode_async_completes_the_schema_before_the_rows()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var source = new RenamingSchemaSource();
        var map = Assert.IsType<TableMapEvent>(await decoder.DecodeAsync(IntTableMap(b, 5, "orders"), EventBuilder.File, source));
        Assert.Equal("order_id", map.Schema.Columns[0].Name);
        var rows = Assert.IsType<RowsEvent>(await decoder.DecodeAsync(InsertInt(b, 5, 77), EventBuilder.File, source));
        Assert.Equal("order_id", rows.Table.Columns[0].Name);
        Assert.Equal(1, source.Calls);
    }

    [Fact]
    public void The_artificial_rotate_before_the_first_format_description_uses_the_announced_checksum()
    {
        // A dump starts with a fake ROTATE (log_pos 0, LOG_EVENT_ARTIFICIAL_F) that carries a CRC.
        var b = new EventBuilder { Position = 0 };
        var rotate = b.Event(BinlogEventType.Rotate, Concat(U64(4), Utf8("mysql-bin.000003")), flags: 0x20);
        var decoder = new BinlogEventDecoder { Checksum = ChecksumAlgorithm.Crc32 };
        var decoded = Assert.IsType<RotateEvent>(decoder.Decode(rotate, ""));
        Assert.Equal("mysql-bin.000003", decoded.NextFile);
        Assert.True(decoded.Header.IsArtificial);
    }

    [Fact]
    public void A_pre_56_server_writes_no_checksum_algorithm()
    {
        var b = new EventBuilder(checksum: false, serverVersion: "5.5.62-log");
        var version = new byte[50];
        Utf8(b.ServerVersion).CopyTo(version, 0);
        var postHeaders = new byte[27];
        postHeaders[(int)BinlogEventType.Query - 1] = 13;
        var fde = b.Event(BinlogEventType.FormatDescription, Concat(U16(4), version, U32(0), [19], postHeaders));
        var decoder = new BinlogEventDecoder();
        var format = Assert.IsType<FormatDescriptionEvent>(decoder.Decode(fde, EventBuilder.File));
        Assert.Equal(ChecksumAlgorithm.None, format.Checksum);
        Assert.Equal(27, format.PostHeaderLengths.Length);
        Assert.Equal("SELECT 1", Assert.IsType<QueryEvent>(decoder.Decode(b.Query("", "SELECT 1"), EventBuilder.File)).Sql);
    }

    [Fact]
    public void A_server_without_checksums_still_writes_the_algorithm_byte()
    {
        var b = new EventBuilder(checksum: false);
        var decoder = new BinlogEventDecoder();
        var format = Assert.IsType<FormatDescriptionEvent>(decoder.Decode(b.FormatDescription(), EventBuilder.File));
        Assert.Equal(ChecksumAlgorithm.None, format.Checksum);
        Assert.Equal(ChecksumAlgorithm.None, decoder.Checksum);
        Assert.Equal(171, format.PostHeaderLengths.Length);
        Assert.Equal(5UL, Assert.IsType<XidEvent>(decoder.Decode(b.Xid(5), EventBuilder.File)).Xid);
    }

    private sealed class RenamingSchemaSource : ITableSchemaSource
    {
        public int Calls { get; private set; }

        public ValueTask<TableSchema?> CompleteAsync(TableMapEvent tableMap, TableSchema fromTableMap, CancellationToken cancellationToken)
        {
            Calls++;
            var columns = fromTableMap.Columns.Select(c => c with { Name = "order_id" }).ToArray();
            return ValueTask.FromResult<TableSchema?>(new TableSchema(fromTableMap.Schema, fromTableMap.Table, columns, [0]));
        }

        public void Invalidate(string? schema, string? table)
        {
        }
    }
}
