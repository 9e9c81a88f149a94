using System.IO.Compression;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using static Replicator.Binlog.Tests.Bytes;
using static Replicator.Binlog.Tests.JsonbWriter;

namespace Replicator.Binlog.Tests;

/// <summary>Rows events: images, NULLs, partial images, partial JSON updates, extra row info, MariaDB compression.</summary>
public sealed class RowsEventTests
{
    // CREATE TABLE t (id BIGINT, name VARCHAR(20), qty INT)
    private static readonly ColumnType[] Types = [ColumnType.LongLong, ColumnType.VarChar, ColumnType.Long];

    private static (EventBuilder Builder, Replicator.Binlog.Parsers.BinlogEventDecoder Decoder) Start()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(b.TableMap(10, "db", "t", Types, U16(80), [0x06], Concat([2], Packed(1), Packed(45))), EventBuilder.File);
        return (b, decoder);
    }

    private static byte[] FullRow(long id, string? name, int qty) => name is null
        ? Concat([0b010], U64((ulong)id), U32((uint)qty))
        : Concat([0b000], U64((ulong)id), [(byte)Utf8(name).Length], Utf8(name), U32((uint)qty));

    [Fact]
    public void Write_rows_carry_one_after_image_per_row()
    {
        var (b, decoder) = Start();
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(
            b.Rows(BinlogEventType.WriteRowsV2, 10, 3, Concat(FullRow(1, "a", 5), FullRow(2, null, -6))), EventBuilder.File));
        Assert.Equal(RowsEventKind.Write, rows.Kind);
        Assert.True(rows.IsStatementEnd);
        Assert.Equal(2, rows.Rows.Count);
        Assert.Null(rows.Rows[0].Before);
        Assert.Equal("a", rows.Rows[0].After![1].AsString());
        Assert.True(rows.Rows[1].After![1].IsNull);
        Assert.Equal(-6, rows.Rows[1].After![2].AsInt64());
    }

    [Fact]
    public void Update_rows_pair_before_and_after_images()
    {
        var (b, decoder) = Start();
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(
            b.Rows(BinlogEventType.UpdateRowsV1, 10, 3, Concat(FullRow(1, "a", 5), FullRow(1, "b", 6))), EventBuilder.File));
        Assert.Equal(RowsEventKind.Update, rows.Kind);
        Assert.Equal("a", rows.Rows[0].Before![1].AsString());
        Assert.Equal("b", rows.Rows[0].After![1].AsString());
    }

    [Fact]
    public void Delete_rows_carry_only_a_before_image()
    {
        var (b, decoder) = Start();
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Rows(BinlogEventType.DeleteRowsV2, 10, 3, FullRow(9, "z", 0)), EventBuilder.File));
        Assert.Equal(RowsEventKind.Delete, rows.Kind);
        Assert.Null(rows.Rows[0].After);
        Assert.Equal(9, rows.Rows[0].Before![0].AsInt64());
    }

    [Fact]
    public void Columns_missing_from_a_minimal_image_are_absent_not_null()
    {
        var (b, decoder) = Start();
        // binlog_row_image=MINIMAL delete: only id (column 1) is logged.
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(
            b.Rows(BinlogEventType.DeleteRowsV2, 10, 3, Concat([0x00], U64(3)), present: [0b001]), EventBuilder.File));
        var before = rows.Rows[0].Before!;
        Assert.Equal(3, before[0].AsInt64());
        Assert.True(before[1].IsAbsent);
        Assert.False(before[1].IsNull);
        Assert.True(before[2].IsAbsent);
    }

    [Fact]
    public void The_null_bitmap_counts_only_present_columns()
    {
        var (b, decoder) = Start();
        // Present: id and qty; qty NULL. The second NULL bit belongs to qty, not to name.
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(
            b.Rows(BinlogEventType.WriteRowsV2, 10, 3, Concat([0b10], U64(4)), present: [0b101]), EventBuilder.File));
        var after = rows.Rows[0].After!;
        Assert.Equal(4, after[0].AsInt64());
        Assert.True(after[1].IsAbsent);
        Assert.True(after[2].IsNull);
    }

    [Fact]
    public void V2_extra_row_info_gives_the_partitions()
    {
        var (b, decoder) = Start();
        // NDB info block (length 3 incl. itself: length, format, one byte), then PART_INFO partition 2 from 5.
        var extra = Concat([0, 3, 0, 0xAA], [1], U16(2), U16(5));
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(
            b.Rows(BinlogEventType.UpdateRowsV2, 10, 3, Concat(FullRow(1, "a", 1), FullRow(1, "a", 2)), extraData: extra), EventBuilder.File));
        Assert.Equal(2, rows.PartitionId);
        Assert.Equal(5, rows.SourcePartitionId);
        Assert.Equal(2, rows.Rows[0].After![2].AsInt64());
    }

    [Fact]
    public void A_row_cut_short_throws_naming_the_row()
    {
        var (b, decoder) = Start();
        var data = FullRow(1, "abc", 5);
        var error = Assert.Throws<Replicator.Binlog.Parsers.BinlogFormatException>(() =>
            decoder.Decode(b.Rows(BinlogEventType.WriteRowsV2, 10, 3, data[..^2]), EventBuilder.File));
        Assert.Contains("Row 1", error.Message);
    }

    [Fact]
    public void Partial_update_rows_carry_json_diffs_for_partial_columns()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        // CREATE TABLE j (id INT, doc JSON, other JSON); binlog_row_value_options=PARTIAL_JSON, binlog_row_image=MINIMAL
        decoder.Decode(b.TableMap(20, "db", "j", [ColumnType.Long, ColumnType.Json, ColumnType.Json], [4, 4], [0x06]), EventBuilder.File);
        var insertValue = Document(new Str("Oslo"));
        var diffs = Concat(
            [1], PackedString("$.city"), Packed((ulong)insertValue.Length), insertValue,      // INSERT $.city "Oslo"
            [2], PackedString("$.tags[0]"),                                                 // REMOVE $.tags[0]
            [0], PackedString("$.n"), Packed(3), Document(new Int(5, 7)));                 // REPLACE $.n 7
        var fullOther = Document(new Arr(false, new Lit(1)));
        var before = Concat([0x00], U32(1));                                  // present: id only
        var after = Concat(
            Packed(1),                    // value_options: PARTIAL_JSON_UPDATES
            [0b01],                       // partial bits: doc (JSON column 0) partial, other (JSON column 1) full
            [0x00],                       // NULL bitmap over doc, other
            U32((uint)diffs.Length), diffs,
            U32((uint)fullOther.Length), fullOther);
        var body = Concat(U48(20), U16(1), U16(2), Packed(3), [0b001], [0b110], before, after);
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Event(BinlogEventType.PartialUpdateRows, body), EventBuilder.File));

        Assert.True(rows.IsPartialUpdate);
        var row = rows.Rows[0];
        Assert.Equal(1, row.Before![0].AsInt64());
        Assert.True(row.Before[1].IsAbsent);
        Assert.True(row.After![0].IsAbsent);
        var list = row.After[1].AsJsonDiff()!;
        Assert.Equal(
            [new JsonDiff(JsonDiffOperation.Insert, "$.city", "\"Oslo\""), new JsonDiff(JsonDiffOperation.Remove, "$.tags[0]", null), new JsonDiff(JsonDiffOperation.Replace, "$.n", "7")],
            list);
        Assert.Equal(ValueKind.Json, row.After[2].Kind);
        Assert.Equal("[true]", row.After[2].AsString());

        var applied = JsonDiffApplier.Apply("{\"n\":1,\"tags\":[\"a\",\"b\"]}", list);
        Assert.Equal("{\"n\":7,\"tags\":[\"b\"],\"city\":\"Oslo\"}", applied);
    }

    [Fact]
    public void Partial_update_rows_without_the_partial_option_hold_full_documents()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(b.TableMap(21, "db", "j", [ColumnType.Long, ColumnType.Json], [4], [0x02]), EventBuilder.File);
        var doc = Document(new Obj(false, ("a", new Int(5, 1))));
        var body = Concat(U48(21), U16(1), U16(2), Packed(2), [0b11], [0b11],
            [0x00], U32(1), U32((uint)doc.Length), doc,
            Packed(0), [0x00], U32(1), U32((uint)doc.Length), doc);
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Event(BinlogEventType.PartialUpdateRows, body), EventBuilder.File));
        Assert.Equal("{\"a\":1}", rows.Rows[0].After![1].AsString());
    }

    internal static byte[] MariaDbCompressed(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(data);
        }

        var length = BigEndian((ulong)data.Length, data.Length > 0xFFFF ? 3 : 2);
        return Concat([(byte)(0x80 | length.Length)], length, output.ToArray());
    }

    [Theory]
    [InlineData(BinlogEventType.WriteRowsCompressedV1)]
    [InlineData(BinlogEventType.WriteRowsCompressed)]
    public void Mariadb_compressed_write_rows_inflate_their_row_data(BinlogEventType type)
    {
        var (b, decoder) = Start();
        var data = Concat(FullRow(1, "compressed", 10), FullRow(2, "rows", 20));
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Rows(type, 10, 3, MariaDbCompressed(data)), EventBuilder.File));
        Assert.Equal(RowsEventKind.Write, rows.Kind);
        Assert.Equal(["compressed", "rows"], rows.Rows.Select(r => r.After![1].AsString()));
    }

    [Fact]
    public void Mariadb_compressed_update_rows_inflate_both_images()
    {
        var (b, decoder) = Start();
        var data = Concat(FullRow(1, "old", 1), FullRow(1, "new", 2));
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Rows(BinlogEventType.UpdateRowsCompressedV1, 10, 3, MariaDbCompressed(data)), EventBuilder.File));
        Assert.Equal("old", rows.Rows[0].Before![1].AsString());
        Assert.Equal("new", rows.Rows[0].After![1].AsString());
    }

    [Fact]
    public void Mariadb_compressed_delete_rows_inflate()
    {
        var (b, decoder) = Start();
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Rows(BinlogEventType.DeleteRowsCompressed, 10, 3, MariaDbCompressed(FullRow(5, "gone", 0))), EventBuilder.File));
        Assert.Equal(RowsEventKind.Delete, rows.Kind);
        Assert.Equal("gone", rows.Rows[0].Before![1].AsString());
    }

    [Fact]
    public void A_corrupt_compressed_record_throws()
    {
        var (b, decoder) = Start();
        var record = MariaDbCompressed(FullRow(1, "x", 1));
        record[^3] ^= 0xFF;
        Assert.Throws<Replicator.Binlog.Parsers.BinlogFormatException>(() => decoder.Decode(b.Rows(BinlogEventType.WriteRowsCompressedV1, 10, 3, record), EventBuilder.File));
    }
}
