using System.Globalization;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// Row images from the shared MariaDB (deploy/local/servers.sh; the test fails when it is not
/// configured) through BinlogClient: MINIMAL and NOBLOB images, ASCII and non-ASCII text side by
/// side, byte values of many rows, and events larger than the client's 256 KB read buffer.
/// </summary>
public sealed class BinlogClientRowImagesMariaDbTests
{
    private const string Database = "nettest_images";

    [Fact]
    public async Task Minimal_and_noblob_updates_leave_the_omitted_columns_absent_and_a_column_set_to_null_null()
    {
        await using var admin = await PrepareAsync("images_partial");
        var before = await admin.ReadCurrentPositionAsync();
        await admin.ExecuteAsync($"INSERT INTO {Database}.images_partial VALUES (1, 'ascii', 'Größe', x'00FF', 'blob one', 'note')");
        await admin.ExecuteAsync("SET SESSION binlog_row_image = 'MINIMAL'");
        await admin.ExecuteAsync($"UPDATE {Database}.images_partial SET note = NULL, u = 'ü✓' WHERE id = 1");
        await admin.ExecuteAsync("SET SESSION binlog_row_image = 'NOBLOB'");
        await admin.ExecuteAsync($"UPDATE {Database}.images_partial SET l = 'plain' WHERE id = 1");
        await admin.ExecuteAsync("SET SESSION binlog_row_image = 'MINIMAL'");
        await admin.ExecuteAsync($"DELETE FROM {Database}.images_partial WHERE id = 1");

        var rows = await ReadRowsAsync(2911, before, "images_partial");

        Assert.Equal([RowsEventKind.Write, RowsEventKind.Update, RowsEventKind.Update, RowsEventKind.Delete], rows.Select(r => r.Kind));
        // Columns: id, u (utf8mb4), l (latin1), bin (VARBINARY), doc (BLOB), note.
        var minimal = Assert.Single(rows[1].Rows);
        Assert.Equal(1, minimal.Before![0].AsInt64());
        Assert.All(minimal.Before[1..], v => Assert.Equal(ValueKind.Absent, v.Kind));
        Assert.Equal(ValueKind.Absent, minimal.After![0].Kind);
        Assert.Equal("ü✓", minimal.After[1].AsString());
        Assert.Equal([ValueKind.Absent, ValueKind.Absent, ValueKind.Absent], minimal.After[2..5].Select(v => v.Kind));
        Assert.Equal(ValueKind.Null, minimal.After[5].Kind);

        var noblob = Assert.Single(rows[2].Rows);
        foreach (var image in new[] { noblob.Before!, noblob.After! })
        {
            Assert.Equal(1, image[0].AsInt64());
            Assert.Equal("ü✓", image[1].AsString());
            Assert.Equal([0x00, 0xFF], image[3].AsBytes());
            Assert.Equal(ValueKind.Absent, image[4].Kind);
            Assert.Equal(ValueKind.Null, image[5].Kind);
        }

        Assert.Equal("Größe", noblob.Before![2].AsString());
        Assert.Equal("plain", noblob.After![2].AsString());
        Assert.NotSame(noblob.Before[3].AsBytes(), noblob.After[3].AsBytes());

        var deleted = Assert.Single(rows[3].Rows);
        Assert.Null(deleted.After);
        Assert.Equal(1, deleted.Before![0].AsInt64());
        Assert.All(deleted.Before[1..], v => Assert.Equal(ValueKind.Absent, v.Kind));
    }

    [Fact]
    public async Task A_multi_row_update_gives_every_row_its_own_images_bytes_and_correct_mixed_text()
    {
        await using var admin = await PrepareAsync("images_many");
        var before = await admin.ReadCurrentPositionAsync();
        string[] texts = ["ascii", "é", "日本語 and ascii", new string('a', 31) + "é", "😀", new string('b', 40), "", "Z"];
        string[] latin = ["abc", "Größe", "€ 5", "plain", "ÿ", "x", "", "Ÿ"];
        var values = string.Join(", ", texts.Select((t, i) =>
            $"({i}, '{t}', '{latin[i]}', x'{i:X2}{i:X2}AB', REPEAT(x'{(i * 17) % 256:X2}', {1000 + i}), 'n{i}')"));
        await admin.ExecuteAsync($"INSERT INTO {Database}.images_many VALUES {values}");
        // Every row changes note only: bin and doc have the same bytes in both images.
        await admin.ExecuteAsync($"UPDATE {Database}.images_many SET note = CONCAT(note, '!')");
        await admin.ExecuteAsync($"UPDATE {Database}.images_many SET bin = x'0102', doc = x'0304'");

        var rows = await ReadRowsAsync(2912, before, "images_many");

        // MariaDB cuts a statement's rows into events of binlog_row_event_max_size: take them by statement.
        var inserted = rows.Where(r => r.Kind == RowsEventKind.Write).SelectMany(r => r.Rows).ToList();
        var updated = rows.Where(r => r.Kind == RowsEventKind.Update).SelectMany(r => r.Rows).ToList();
        Assert.Equal(texts.Length, inserted.Count);
        Assert.Equal(2 * texts.Length, updated.Count);
        var first = updated[..texts.Length];
        Assert.Equal(texts.Length, first.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            foreach (var image in new[] { first[i].Before!, first[i].After!, inserted[i].After! })
            {
                Assert.Equal(i, image[0].AsInt64());
                Assert.Equal(texts[i], image[1].AsString());
                Assert.Equal(latin[i], image[2].AsString());
                Assert.Equal(new byte[] { (byte)i, (byte)i, 0xAB }, image[3].AsBytes());
                Assert.Equal(Enumerable.Repeat((byte)((i * 17) % 256), 1000 + i), image[4].AsBytes()!);
            }

            Assert.Equal($"n{i}!", first[i].After![5].AsString());
        }

        var images = rows.SelectMany(r => r.Rows).SelectMany(r => new[] { r.Before, r.After }).OfType<ColumnValue[]>().ToList();
        Assert.Equal(images.Count, images.Distinct(ReferenceEqualityComparer.Instance).Count());
        var arrays = images.SelectMany(i => new[] { i[3].AsBytes()!, i[4].AsBytes()! }).ToList();
        Assert.Equal(arrays.Count, arrays.Distinct(ReferenceEqualityComparer.Instance).Count());
        Assert.All(updated[texts.Length..], r => Assert.Equal([0x01, 0x02], r.After![3].AsBytes()));
    }

    [Fact]
    public async Task A_multi_megabyte_blob_and_an_update_event_larger_than_the_read_buffer_come_back_intact()
    {
        await using var admin = await PrepareAsync("images_large");
        var before = await admin.ReadCurrentPositionAsync();
        // A 3 MB value: 3 * 1024 * 1024 bytes of a repeating 251-byte pattern.
        const int Big = 3 * 1024 * 1024;
        var pattern = string.Concat(Enumerable.Range(0, 251).Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));
        await admin.ExecuteAsync($"INSERT INTO {Database}.images_large VALUES (1, 'big', 'l', x'01', LEFT(REPEAT(x'{pattern}', {(Big / 251) + 1}), {Big}), 'n')");
        var many = string.Join(", ", Enumerable.Range(2, 120).Select(i => $"({i}, 'r{i} ✓', 'l', x'{i % 256:X2}', REPEAT(CHAR({i % 256}), 3000), 'n')"));
        await admin.ExecuteAsync($"INSERT INTO {Database}.images_large VALUES {many}");
        await admin.ExecuteAsync($"UPDATE {Database}.images_large SET note = 'm' WHERE id > 1");
        // One row of 3 MB before and after: MariaDB cannot cut that event, about 6 MB.
        await admin.ExecuteAsync($"UPDATE {Database}.images_large SET note = 'big' WHERE id = 1");
        await admin.ExecuteAsync($"INSERT INTO {Database}.images_large VALUES (999, 'after', 'l', x'09', 'small', 'n')");

        var rows = await ReadRowsAsync(2913, before, "images_large");

        var big = Assert.Single(rows[0].Rows).After![4].AsBytes()!;
        Assert.Equal(Big, big.Length);
        for (var i = 0; i < big.Length; i += 4099)
        {
            Assert.True(big[i] == (byte)(i % 251), $"byte {i} of the 3 MB value is {big[i]}, expected {i % 251}");
        }

        Assert.Equal((byte)((Big - 1) % 251), big[^1]);

        // MariaDB cuts the 120-row statements into events of binlog_row_event_max_size: take them by statement.
        var updated = rows.Where(r => r.Kind == RowsEventKind.Update).SelectMany(r => r.Rows).ToList();
        Assert.Equal(121, updated.Count);
        for (var k = 0; k < 120; k++)
        {
            var i = k + 2;
            foreach (var image in new[] { updated[k].Before!, updated[k].After! })
            {
                Assert.Equal(i, image[0].AsInt64());
                Assert.Equal($"r{i} ✓", image[1].AsString());
                Assert.Equal(Enumerable.Repeat((byte)(i % 256), 3000), image[4].AsBytes()!);
            }

            Assert.Equal("m", updated[k].After![5].AsString());
        }

        var bigUpdate = rows.Single(r => r.Kind == RowsEventKind.Update && r.Rows[0].Before![0].AsInt64() == 1);
        Assert.True(bigUpdate.Header.EventSize > 2 * Big, $"the update of the 3 MB row is {bigUpdate.Header.EventSize} bytes");
        var (bigBefore, bigAfter) = (bigUpdate.Rows[0].Before![4].AsBytes()!, bigUpdate.Rows[0].After![4].AsBytes()!);
        Assert.NotSame(bigBefore, bigAfter);
        Assert.NotSame(big, bigBefore);
        Assert.True(big.AsSpan().SequenceEqual(bigBefore), "the before image of the update holds the inserted 3 MB");
        Assert.True(big.AsSpan().SequenceEqual(bigAfter), "the after image of the update holds the inserted 3 MB");
        Assert.Equal("big", bigUpdate.Rows[0].After![5].AsString());

        Assert.Equal("after", Assert.Single(rows[^1].Rows).After![1].AsString());
    }

    private static async Task<BinlogConnection> PrepareAsync(string table)
    {
        await NetworkTestEnvironment.AdminAsync(
            $"CREATE DATABASE IF NOT EXISTS {Database}",
            $"CREATE OR REPLACE TABLE {Database}.{table} (id INT PRIMARY KEY, u VARCHAR(60) CHARACTER SET utf8mb4, "
            + "l VARCHAR(20) CHARACTER SET latin1, bin VARBINARY(16), doc LONGBLOB, note VARCHAR(20) NULL)");
        return await NetworkTestEnvironment.OpenAdminAsync();
    }

    /// <summary>Every rows event of <paramref name="table"/> from <paramref name="from"/> to the end of the binlog, read to the end before any is checked.</summary>
    private static async Task<List<RowsEvent>> ReadRowsAsync(uint serverId, BinlogPosition from, string table)
    {
        await using var client = new BinlogClient(NetworkTestEnvironment.Cdc(serverId) with { Start = StartPosition.At(from), Blocking = false });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = new List<BinlogEvent>();
        await foreach (var binlogEvent in client.ReadEventsAsync(timeout.Token))
        {
            events.Add(binlogEvent);
        }

        return events.OfType<RowsEvent>().Where(r => r.Table.Table == table).ToList();
    }
}
