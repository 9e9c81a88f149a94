using System.Text;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests;

/// <summary>
/// Text columns whose values switch between ASCII and non-ASCII from one cell, row or image to the
/// next, in one event. The utf8 decoder widens short ASCII values (up to 32 bytes) itself and
/// hands the rest to UTF-8; latin1 has an ASCII path and a Windows-1252 table. A value must never
/// come out as the previous one's kind of text.
/// </summary>
public sealed class MixedTextDecodingTests
{
    // CREATE TABLE t (id INT, u VARCHAR(100) CHARACTER SET utf8mb4, l VARCHAR(100) CHARACTER SET latin1, txt TEXT CHARACTER SET utf8mb4)
    private static readonly ColumnType[] Types = [ColumnType.Long, ColumnType.VarChar, ColumnType.VarChar, ColumnType.Blob];

    // u: 400 bytes (2 length bytes), l: 100 bytes (1 length byte), txt: TEXT (2 length bytes).
    private static readonly byte[] Metadata = Concat(U16(400), U16(100), [2]);

    // COLUMN_CHARSET over u, l, txt: utf8mb4_0900_ai_ci (255), latin1_swedish_ci (8), utf8mb4_general_ci (45).
    private static readonly byte[] Optional = MetadataField(3, Concat(Packed(255), Packed(8), Packed(45)));

    private const ulong TableId = 12;

    /// <summary>utf8mb4 values, in this order, around the 32-byte ASCII fast-path limit.</summary>
    private static readonly string[] Utf8Values =
    [
        "plain",
        "é",
        "a",
        "日本語",
        new string('a', 32),
        new string('a', 31) + "é",   // 33 bytes, ASCII up to the last character
        new string('a', 30) + "é",   // 32 bytes: fast-path length but not ASCII
        "é" + new string('a', 30),   // 32 bytes, not ASCII at the start
        new string('b', 33),
        "😀 smile",
        "a😀",
        "",
        "\u007F\u0001 controls",
        "Größe ✓ " + new string('z', 40),
        "z",
    ];

    /// <summary>latin1 values with their bytes: ASCII, Latin-1 letters, and 0x80..0x9F as MySQL's cp1252.</summary>
    private static readonly (byte[] Bytes, string Text)[] Latin1Values =
    [
        ([0x61, 0x62, 0x63], "abc"),
        ([0x47, 0x72, 0xF6, 0xDF, 0x65], "Größe"),
        ([0x7A], "z"),
        ([0x80, 0x20, 0x31, 0x30], "€ 10"),
        ([], ""),
        ([0x81, 0x8D, 0x8F, 0x90, 0x9D], "\u0081\u008D\u008F\u0090\u009D"),
        ([0x9F, 0xFF, 0xE9], "Ÿÿé"),
        (Encoding.ASCII.GetBytes(new string('q', 40)), new string('q', 40)),
        ([0x93, 0x71, 0x94], "\u201Cq\u201D"),
        ([0x41], "A"),
    ];

    [Fact]
    public void Ascii_and_non_ascii_values_alternate_across_rows_and_columns_of_one_write_event()
    {
        var (b, decoder) = Start();
        var count = Math.Max(Utf8Values.Length, Latin1Values.Length);
        var rows = Enumerable.Range(0, count).Select(i => Row(i, Utf8Values[i % Utf8Values.Length], Latin1Values[i % Latin1Values.Length].Bytes, Utf8Values[(i + 1) % Utf8Values.Length])).ToArray();

        var decoded = Decode(decoder, b.Rows(BinlogEventType.WriteRowsV2, TableId, 4, Concat(rows)));

        Assert.Equal(count, decoded.Rows.Count);
        for (var i = 0; i < count; i++)
        {
            var after = decoded.Rows[i].After!;
            Assert.Equal(i, after[0].AsInt64());
            Assert.Equal(Utf8Values[i % Utf8Values.Length], after[1].AsString());
            Assert.Equal(Latin1Values[i % Latin1Values.Length].Text, after[2].AsString());
            Assert.Equal(Utf8Values[(i + 1) % Utf8Values.Length], after[3].AsString());
        }
    }

    [Fact]
    public void An_update_that_turns_ascii_into_non_ascii_of_the_same_byte_length_and_back_decodes_each_image()
    {
        var (b, decoder) = Start();
        // Same length prefix and byte count in both images: only the bytes tell them apart.
        var data = Concat(
            Row(1, "ab", [0x61, 0x62], "abc"), Row(1, "é", [0xE9, 0x62], "✓"),
            Row(2, "✓", [0xE9], "日"), Row(2, "abc", [0x65], "xyz"),
            Row(3, new string('a', 32), [0x80], "same"), Row(3, new string('a', 30) + "é", [0x80], "same"));

        var rows = Decode(decoder, b.Rows(BinlogEventType.UpdateRowsV2, TableId, 4, data)).Rows;

        Assert.Equal(["ab", "✓", new string('a', 32)], rows.Select(r => r.Before![1].AsString()));
        Assert.Equal(["é", "abc", new string('a', 30) + "é"], rows.Select(r => r.After![1].AsString()));
        Assert.Equal(["ab", "é", "€"], rows.Select(r => r.Before![2].AsString()));
        Assert.Equal(["éb", "e", "€"], rows.Select(r => r.After![2].AsString()));
        Assert.Equal(["abc", "日", "same"], rows.Select(r => r.Before![3].AsString()));
        Assert.Equal(["✓", "xyz", "same"], rows.Select(r => r.After![3].AsString()));
    }

    [Fact]
    public void Malformed_utf8_in_a_short_value_decodes_as_utf8_does_and_leaves_the_next_ascii_value_alone()
    {
        var (b, decoder) = Start();
        byte[] lone = [0x61, 0x80, 0x62];        // a continuation byte with no lead
        byte[] cut = [0xE2, 0x9C];               // the first two bytes of ✓
        var data = Concat(RowBytes(1, lone, [], "ok"u8.ToArray()), RowBytes(2, cut, [0x41], "ok"u8.ToArray()), Row(3, "next", [0x42], "fine"));

        var rows = Decode(decoder, b.Rows(BinlogEventType.WriteRowsV2, TableId, 4, data)).Rows;

        Assert.Equal(Encoding.UTF8.GetString(lone), rows[0].After![1].AsString());
        Assert.Equal(Encoding.UTF8.GetString(cut), rows[1].After![1].AsString());
        Assert.Equal("next", rows[2].After![1].AsString());
        Assert.Equal("fine", rows[2].After![3].AsString());
    }

    [Fact]
    public async Task Mariadb_compressed_insert_holds_an_ascii_and_a_utf8mb4_title_in_one_event()
    {
        var events = await FixturePaths.ReadEventsAsync("mariadb1011-compressed");

        // INSERT … VALUES (1, 'first', REPEAT('compress me ', 20), …), (2, 'ß✓', '', 0); then title = 'first ✓'.
        var insert = events.OfType<RowsEvent>().Single(r => r.Kind == RowsEventKind.Write);
        Assert.Equal(["first", "ß✓"], insert.Rows.Select(r => r.After![1].AsString()));
        Assert.Equal([string.Concat(Enumerable.Repeat("compress me ", 20)), ""], insert.Rows.Select(r => r.After![2].AsString()));
        var update = Assert.Single(events.OfType<RowsEvent>().Single(r => r.Kind == RowsEventKind.Update).Rows);
        Assert.Equal("first", update.Before![1].AsString());
        Assert.Equal("first ✓", update.After![1].AsString());
        Assert.Equal(string.Concat(Enumerable.Repeat("compress me ", 20)) + "!", update.After![2].AsString());
        var delete = Assert.Single(events.OfType<RowsEvent>().Single(r => r.Kind == RowsEventKind.Delete).Rows);
        Assert.Equal("ß✓", delete.Before![1].AsString());
    }

    [Fact]
    public async Task Mariadb_latin1_text_follows_utf8mb4_text_and_an_ascii_latin1_value_in_the_same_event()
    {
        var events = await FixturePaths.ReadEventsAsync("mariadb1011-fullmeta-set-geometry");

        var insert = events.OfType<RowsEvent>().Single(r => r.Kind == RowsEventKind.Write);
        var columns = insert.Table.Columns.Select(c => c.Name).ToList();
        var (tags, kind, lat) = (columns.IndexOf("tags"), columns.IndexOf("kind"), columns.IndexOf("lat"));
        Assert.Equal(["Größe", ""], insert.Rows.Select(r => r.After![lat].AsString()));
        Assert.Equal(["ü", "a"], insert.Rows.Select(r => r.After![kind].AsString()));
        Assert.Equal(["red,blue", ""], insert.Rows.Select(r => r.After![tags].AsString()));
        var update = Assert.Single(events.OfType<RowsEvent>().Single(r => r.Kind == RowsEventKind.Update).Rows);
        Assert.Equal("Größe", update.Before![lat].AsString());
        Assert.Equal("Größe", update.After![lat].AsString());
        Assert.Equal("ü", update.Before![kind].AsString());
        Assert.Equal("b", update.After![kind].AsString());
        Assert.Equal("green,x y", update.After![tags].AsString());
    }

    private static (EventBuilder Builder, BinlogEventDecoder Decoder) Start()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var map = Assert.IsType<TableMapEvent>(decoder.Decode(b.TableMap(TableId, "db", "t", Types, Metadata, [0x0E], Optional), EventBuilder.File));
        Assert.Equal([255, 8, 45], map.Schema.Columns.Skip(1).Select(c => c.Collation));
        return (b, decoder);
    }

    private static byte[] Row(int id, string u, byte[] latin1, string text) => RowBytes(id, Utf8(u), latin1, Utf8(text));

    /// <summary>A full image with no NULLs: id, u (2 length bytes), l (1 length byte), txt (2 length bytes).</summary>
    private static byte[] RowBytes(int id, byte[] u, byte[] latin1, byte[] text) =>
        Concat([0b0000], U32((uint)id), U16(u.Length), u, [(byte)latin1.Length], latin1, U16(text.Length), text);

    private static RowsEvent Decode(BinlogEventDecoder decoder, byte[] rawEvent) =>
        Assert.IsType<RowsEvent>(decoder.Decode(rawEvent, EventBuilder.File));
}
