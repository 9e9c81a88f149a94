using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests;

/// <summary>
/// What the rows decoder hands out belongs to the caller: each row image is its own array, a
/// byte[] value is never shared between rows, images or events (the decoder reuses an update's
/// before-image cell for an identical after-image cell only when the value holds no array), the
/// rows of one event do not change when the decoder goes on to the next, and a column left out of
/// a MINIMAL or NOBLOB image is Absent, never Null. Checked on recorded binlogs and on crafted
/// events. Events are all read first, then compared.
/// </summary>
public sealed class RowImageIsolationTests
{
    // CREATE TABLE t (id BIGINT, bin VARBINARY(64), name VARCHAR(20) CHARACTER SET utf8mb4, doc BLOB)
    private static readonly ColumnType[] Types = [ColumnType.LongLong, ColumnType.VarChar, ColumnType.VarChar, ColumnType.Blob];

    // VARBINARY(64) and VARCHAR(20) utf8mb4 (80 bytes): 1 length byte; BLOB: 2 length bytes.
    private static readonly byte[] Metadata = Concat(U16(64), U16(80), [2]);

    // COLUMN_CHARSET over bin, name, doc: binary, utf8mb4_general_ci, binary.
    private static readonly byte[] Optional = Concat([3], Packed(3), Packed(63), Packed(45), Packed(63));

    private const ulong TableId = 30;

    [Fact]
    public async Task Mysql80_multi_row_update_images_are_distinct_arrays_holding_their_own_values_after_the_whole_file_is_read()
    {
        var events = await FixturePaths.ReadEventsAsync("mysql80-json-partial-update");

        var update = events.OfType<RowsEvent>().Single(r => r.Header.Type == BinlogEventType.UpdateRowsV2);
        Assert.Equal(6, update.Rows.Count);
        (string Name, int Age)[] people = [("Joe", 24), ("Sue", 32), ("Pete", 40), ("Joe", 24), ("Sue", 32), ("Pete", 40)];
        for (var i = 0; i < 6; i++)
        {
            var (before, after) = (update.Rows[i].Before!, update.Rows[i].After!);
            Assert.Equal(i + 1, before[0].AsInt64());
            Assert.Equal(i + 1, after[0].AsInt64());
            Assert.Equal(people[i].Name, before[2].AsString());
            Assert.Equal(people[i].Name, after[2].AsString());
            Assert.Equal(people[i].Age, before[3].AsInt64());
            Assert.Equal(people[i].Age + 1, after[3].AsInt64());
            Assert.Contains($"\"age\":{people[i].Age},", before[1].AsString(), StringComparison.Ordinal);
            Assert.Contains($"\"age\":{people[i].Age + 1},", after[1].AsString(), StringComparison.Ordinal);
        }

        Instances.AssertDistinct(events.OfType<RowsEvent>().SelectMany(r => r.Rows).SelectMany(r => new[] { r.Before, r.After }).OfType<ColumnValue[]>(), atLeastTwo: true);
    }

    [Fact]
    public async Task Mysql80_partial_json_update_with_a_minimal_image_leaves_the_omitted_columns_absent()
    {
        var events = await FixturePaths.ReadEventsAsync("mysql80-json-partial-update");

        // binlog_row_image=MINIMAL with PARTIAL_JSON: the before image holds only @1, the after image @2..@4.
        var partial = events.OfType<RowsEvent>().Single(r => r.IsPartialUpdate);
        Assert.Equal(6, partial.Rows.Count);
        int[] ages = [26, 34, 42, 26, 34, 42];
        for (var i = 0; i < 6; i++)
        {
            var (before, after) = (partial.Rows[i].Before!, partial.Rows[i].After!);
            Assert.Equal(i + 1, before[0].AsInt64());
            Assert.All(before[1..], v => Assert.Equal(ValueKind.Absent, v.Kind));
            Assert.Equal(ValueKind.Absent, after[0].Kind);
            Assert.False(after[0].IsNull);
            Assert.Equal(ValueKind.JsonDiff, after[1].Kind);
            Assert.Equal(ages[i], after[3].AsInt64());
        }
    }

    [Fact]
    public async Task Mysql80_minimal_image_write_leaves_the_unlogged_columns_absent_not_null()
    {
        var events = await FixturePaths.ReadEventsAsync("mysql80-minimal-metadata-unsigned");

        // The columns-present bitmap is 0x15: @1, @3 and @5 only.
        var after = Assert.Single(events.OfType<RowsEvent>().Single().Rows).After!;
        Assert.Equal(5, after.Length);
        Assert.Equal(1, after[0].AsInt64());
        Assert.Equal(ValueKind.Absent, after[1].Kind);
        Assert.False(after[1].IsNull);
        Assert.Equal("a", after[2].AsString());
        Assert.Equal(ValueKind.Absent, after[3].Kind);
        Assert.False(after[3].IsNull);
        Assert.Equal(3230202323UL, after[4].AsUInt64());
    }

    [Fact]
    public async Task Mysql80_full_image_update_keeps_real_nulls_null_and_an_unchanged_blob_in_two_arrays()
    {
        var events = await FixturePaths.ReadEventsAsync("mysql80-invisible-columns");

        // Before (NULL, NULL, -33, '44', 'U', NULL), after (111, 222, -333, '444', 'U', NULL).
        var row = Assert.Single(events.OfType<RowsEvent>().Single(r => r.Kind == RowsEventKind.Update).Rows);
        var (before, after) = (row.Before!, row.After!);
        Assert.Equal(ValueKind.Null, before[0].Kind);
        Assert.Equal(ValueKind.Null, before[5].Kind);
        Assert.Equal(ValueKind.Null, after[5].Kind);
        Assert.Equal(-33, before[2].AsInt64());
        Assert.Equal(-333, after[2].AsInt64());
        Assert.Equal("44", before[3].AsString());
        Assert.Equal("444", after[3].AsString());
        Assert.Equal("U"u8.ToArray(), before[4].AsBytes());
        Assert.Equal("U"u8.ToArray(), after[4].AsBytes());
        Assert.NotSame(before[4].AsBytes(), after[4].AsBytes());

        // The insert of the same value earlier in the file has its own array too.
        var inserted = events.OfType<RowsEvent>().Where(r => r.Kind == RowsEventKind.Write).Select(r => r.Rows[0].After![4].AsBytes()!).ToList();
        Instances.AssertDistinct(inserted.Append(before[4].AsBytes()!).Append(after[4].AsBytes()!), atLeastTwo: true);
        Assert.Equal([0x05], inserted[0]);
    }

    [Fact]
    public async Task Mariadb_update_with_unchanged_varbinary_and_geometry_gives_the_after_image_its_own_arrays()
    {
        var events = await FixturePaths.ReadEventsAsync("mariadb1011-fullmeta-set-geometry");

        var row = Assert.Single(events.OfType<RowsEvent>().Single(r => r.Kind == RowsEventKind.Update).Rows);
        var columns = events.OfType<RowsEvent>().First().Table.Columns.Select(c => c.Name).ToList();
        var (raw, ls, poly, lat) = (columns.IndexOf("raw"), columns.IndexOf("ls"), columns.IndexOf("poly"), columns.IndexOf("lat"));
        var (before, after) = (row.Before!, row.After!);

        Assert.Equal([0x00, 0xFF, 0x80], before[raw].AsBytes());
        Assert.Equal([0x00, 0xFF, 0x80], after[raw].AsBytes());
        Assert.NotSame(before[raw].AsBytes(), after[raw].AsBytes());
        Assert.Equal(before[ls].AsBytes(), after[ls].AsBytes());
        Assert.NotSame(before[ls].AsBytes(), after[ls].AsBytes());
        Assert.NotSame(before[poly].AsBytes(), after[poly].AsBytes());
        Assert.Equal("Größe", after[lat].AsString());

        // Changing the after image's bytes leaves the before image and the insert as they were.
        after[raw].AsBytes()![0] = 0x7E;
        Assert.Equal([0x00, 0xFF, 0x80], before[raw].AsBytes());
        var insert = events.OfType<RowsEvent>().First(r => r.Kind == RowsEventKind.Write);
        Assert.Equal([0x00, 0xFF, 0x80], insert.Rows[0].After![raw].AsBytes());
    }

    [Fact]
    public void Update_rows_with_identical_before_and_after_bytes_get_separate_arrays_in_every_row_and_image()
    {
        var (b, decoder) = Start();
        byte[][] payloads = [[1, 2, 3], [1, 2, 3], [], [0xFF], [1, 2, 3]];
        var data = Concat(payloads.Select((p, i) => Concat(
            Row(i, p, "same", p),     // before
            Row(i, p, "same", p))).ToArray()); // after: every cell has the bytes of its before cell

        var rows = Decode(decoder, b.Rows(BinlogEventType.UpdateRowsV2, TableId, 4, data)).Rows;

        Assert.Equal(payloads.Length, rows.Count);
        var images = rows.SelectMany(r => new[] { r.Before!, r.After! }).ToList();
        Instances.AssertDistinct(images, atLeastTwo: true);
        // An empty value may be the shared empty array: it has no element to change.
        Instances.AssertDistinct(images.Select(i => i[1].AsBytes()!).Where(a => a.Length > 0), atLeastTwo: true);
        Instances.AssertDistinct(images.Select(i => i[3].AsBytes()!).Where(a => a.Length > 0), atLeastTwo: true);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(payloads[i], rows[i].Before![1].AsBytes());
            Assert.Equal(payloads[i], rows[i].After![1].AsBytes());
            Assert.Equal(payloads[i], rows[i].After![3].AsBytes());
            Assert.Equal("same", rows[i].After![2].AsString());
        }

        // Writing into one value, or replacing a cell of one image, touches nothing else.
        rows[0].After![1].AsBytes()![0] = 99;
        rows[1].Before![2] = ColumnValue.FromString("replaced");
        Assert.Equal([1, 2, 3], rows[0].Before![1].AsBytes());
        Assert.Equal([1, 2, 3], rows[1].After![1].AsBytes());
        Assert.Equal([1, 2, 3], rows[4].After![1].AsBytes());
        Assert.Equal("same", rows[1].After![2].AsString());
        Assert.Equal("same", rows[0].Before![2].AsString());
    }

    [Fact]
    public void An_update_cell_that_differs_from_its_before_cell_is_decoded_from_its_own_bytes()
    {
        var (b, decoder) = Start();
        // Same lengths, different bytes: a reuse keyed on the length alone would repeat the before value.
        var data = Concat(
            Row(1, [1, 2], "ab", [9]), Row(1, [2, 1], "ba", [8]),
            Row(2, [7], "é", [7]), Row(2, [7], "ü", [7]),
            Row(3, [], "x", []), Row(3, [0], "x", [0]));

        var rows = Decode(decoder, b.Rows(BinlogEventType.UpdateRowsV2, TableId, 4, data)).Rows;

        Assert.Equal([2, 1], rows[0].After![1].AsBytes());
        Assert.Equal("ba", rows[0].After![2].AsString());
        Assert.Equal([8], rows[0].After![3].AsBytes());
        Assert.Equal("ü", rows[1].After![2].AsString());
        Assert.Equal("é", rows[1].Before![2].AsString());
        Assert.Equal([0], rows[2].After![1].AsBytes());
        Assert.Equal(Array.Empty<byte>(), rows[2].Before![1].AsBytes());
    }

    [Fact]
    public void The_rows_of_an_event_stay_as_decoded_while_the_decoder_reads_the_next_events()
    {
        var (b, decoder) = Start();
        var first = Decode(decoder, b.Rows(BinlogEventType.WriteRowsV2, TableId, 4, Concat(Enumerable.Range(0, 5).Select(i => Row(i, [(byte)i], $"first {i}", [(byte)(100 + i)])).ToArray())));
        // More rows than the decoder keeps room for between events, then fewer than the first event had.
        var big = Decode(decoder, b.Rows(BinlogEventType.WriteRowsV2, TableId, 4, Concat(Enumerable.Range(0, 5000).Select(i => Row(i, [(byte)i, 1], $"big {i}", [])).ToArray())));
        var small = Decode(decoder, b.Rows(BinlogEventType.DeleteRowsV2, TableId, 4, Concat(Row(7, [7, 7], "small", [7]), Row(8, [8], "small 8", [8]))));
        var last = Decode(decoder, b.Rows(BinlogEventType.UpdateRowsV2, TableId, 4, Concat(Row(1, [1], "a", [1]), Row(1, [1], "b", [1]))));

        Assert.Equal(5, first.Rows.Count);
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(first.Rows[i].Before);
            Assert.Equal(i, first.Rows[i].After![0].AsInt64());
            Assert.Equal(new[] { (byte)i }, first.Rows[i].After![1].AsBytes());
            Assert.Equal($"first {i}", first.Rows[i].After![2].AsString());
            Assert.Equal(new[] { (byte)(100 + i) }, first.Rows[i].After![3].AsBytes());
        }

        Assert.Equal(5000, big.Rows.Count);
        Assert.Equal("big 4999", big.Rows[4999].After![2].AsString());
        Assert.Equal(2, small.Rows.Count);
        Assert.Equal("small 8", small.Rows[1].Before![2].AsString());
        Assert.Null(small.Rows[1].After);
        Assert.Single(last.Rows);
        Assert.NotSame(first.Rows, big.Rows);
        Assert.NotSame(small.Rows, last.Rows);
        Instances.AssertDistinct(new[] { first, big, small, last }.SelectMany(e => e.Rows).SelectMany(r => new[] { r.Before, r.After }).OfType<ColumnValue[]>(), atLeastTwo: true);
    }

    [Fact]
    public void A_minimal_update_has_only_the_key_before_and_only_the_changed_columns_after_with_a_set_null_kept_null()
    {
        var (b, decoder) = Start();
        // UPDATE t SET name = NULL, doc = x'0A0B' WHERE id = 5 under binlog_row_image=MINIMAL:
        // before image {id}, after image {name, doc}; the after NULL bitmap covers its 2 present columns.
        var before = Concat([0b0], U64(5));
        var after = Concat([0b01], U16(2), [0x0A, 0x0B]);
        var body = Concat(
            U48(TableId), U16(1), U16(2), Packed(4),
            [0b0001],   // before: id
            [0b1100],   // after: name, doc
            before, after,
            before, Concat([0b10], [1], [0x0C])); // a second row: name = x'0C', doc NULL
        var rows = Decode(decoder, b.Event(BinlogEventType.UpdateRowsV2, body)).Rows;

        Assert.Equal(2, rows.Count);
        var (b0, a0) = (rows[0].Before!, rows[0].After!);
        Assert.Equal(5, b0[0].AsInt64());
        Assert.Equal([ValueKind.Absent, ValueKind.Absent, ValueKind.Absent], b0[1..].Select(v => v.Kind));
        Assert.Equal(ValueKind.Absent, a0[0].Kind);
        Assert.Equal(ValueKind.Absent, a0[1].Kind);
        Assert.Equal(ValueKind.Null, a0[2].Kind);
        Assert.Equal([0x0A, 0x0B], a0[3].AsBytes());

        var a1 = rows[1].After!;
        Assert.Equal(ValueKind.Absent, a1[0].Kind);
        Assert.Equal(ValueKind.Absent, a1[1].Kind);
        Assert.Equal("\f", a1[2].AsString());
        Assert.Equal(ValueKind.Null, a1[3].Kind);
    }

    [Fact]
    public void A_noblob_image_leaves_the_blob_absent_in_both_images_while_a_null_varbinary_stays_null()
    {
        var (b, decoder) = Start();
        // UPDATE t SET name = 'n2' WHERE id = 6 under binlog_row_image=NOBLOB: every column but the BLOB, in both images.
        var present = new byte[] { 0b0111 };
        var before = Concat([0b010], U64(6), [2], "n1"u8.ToArray());
        var after = Concat([0b010], U64(6), [2], "n2"u8.ToArray());
        var rows = Decode(decoder, b.Rows(BinlogEventType.UpdateRowsV2, TableId, 4, Concat(before, after), present)).Rows;

        var row = Assert.Single(rows);
        foreach (var image in new[] { row.Before!, row.After! })
        {
            Assert.Equal(6, image[0].AsInt64());
            Assert.Equal(ValueKind.Null, image[1].Kind);
            Assert.Equal(ValueKind.Absent, image[3].Kind);
            Assert.False(image[3].IsNull);
        }

        Assert.Equal("n1", row.Before![2].AsString());
        Assert.Equal("n2", row.After![2].AsString());
    }

    private static (EventBuilder Builder, BinlogEventDecoder Decoder) Start()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(b.TableMap(TableId, "db", "t", Types, Metadata, [0x0E], Optional), EventBuilder.File);
        return (b, decoder);
    }

    /// <summary>A full image with no NULLs: id, bin (1 length byte), name (1 length byte), doc (2 length bytes).</summary>
    private static byte[] Row(long id, byte[] bin, string name, byte[] doc) =>
        Concat([0b0000], U64((ulong)id), [(byte)bin.Length], bin, [(byte)Utf8(name).Length], Utf8(name), U16(doc.Length), doc);

    private static RowsEvent Decode(BinlogEventDecoder decoder, byte[] rawEvent) =>
        Assert.IsType<RowsEvent>(decoder.Decode(rawEvent, EventBuilder.File));
}
