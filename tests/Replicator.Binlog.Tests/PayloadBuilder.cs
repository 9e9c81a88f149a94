using System.Runtime.InteropServices;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests;

/// <summary>Builds MySQL TRANSACTION_PAYLOAD events (zstd) around inner events, for tests no fixture is large or broken enough for.</summary>
internal static partial class PayloadBuilder
{
    public static string Cell(int ev, int row, int length)
    {
        var text = $"e{ev}r{row}-";
        return string.Concat(Enumerable.Repeat(text, (length / text.Length) + 1))[..length];
    }

    /// <summary>BEGIN, a TABLE_MAP (INT, VARCHAR(2000)), <paramref name="events"/> rows events, XID: as they sit inside a payload (log_pos 0, no checksum).</summary>
    public static List<byte[]> InnerEvents(int events, int rowsPerEvent, int cell)
    {
        var inner = new EventBuilder(checksum: false) { Position = 0 };
        byte[] Unpositioned(byte[] raw)
        {
            Array.Clear(raw, 13, 4);
            return raw;
        }

        var list = new List<byte[]>
        {
            Unpositioned(inner.Query("shop", "BEGIN")),
            Unpositioned(inner.TableMap(3, "shop", "t", [ColumnType.Long, ColumnType.VarChar], U16(2000))),
        };
        for (var e = 0; e < events; e++)
        {
            var rows = new List<byte[]>();
            for (var r = 0; r < rowsPerEvent; r++)
            {
                var text = Utf8(Cell(e, r, cell));
                rows.Add(Concat([0x00], U32((uint)((e * rowsPerEvent) + r)), U16(text.Length), text));
            }

            list.Add(Unpositioned(inner.Rows(BinlogEventType.WriteRowsV2, 3, 2, Concat(rows.ToArray()))));
        }

        list.Add(Unpositioned(inner.Xid(5)));
        return list;
    }

    public static (byte[] Raw, long Uncompressed, int Largest) LargePayload(int events, int rowsPerEvent, int cell)
    {
        var inner = InnerEvents(events, rowsPerEvent, cell);
        var data = Concat(inner.ToArray());
        return (PayloadEvent(new EventBuilder(), ZstdCompress(data), data.Length), data.Length, inner.Max(e => e.Length));
    }

    /// <summary>A TRANSACTION_PAYLOAD event (zstd) holding <paramref name="compressed"/> and declaring <paramref name="declared"/> uncompressed bytes.</summary>
    public static byte[] PayloadEvent(EventBuilder b, byte[] compressed, long declared)
    {
        var body = Concat(
            Packed(2), Packed(1), Packed(0),                                                        // compression type: zstd
            Packed(3), Packed((ulong)Packed((ulong)declared).Length), Packed((ulong)declared),      // uncompressed size
            Packed(1), Packed((ulong)Packed((ulong)compressed.Length).Length), Packed((ulong)compressed.Length), // payload size
            Packed(0),
            compressed);
        return b.Event(BinlogEventType.TransactionPayload, body);
    }

    /// <summary>zstd-compresses <paramref name="data"/> as one frame, through the system libzstd the decoder uses (the tests need an encoder; the product does not).</summary>
    public static byte[] ZstdCompress(byte[] data)
    {
        var bound = ZSTD_compressBound((nuint)data.Length);
        var output = new byte[(int)bound];
        var written = ZSTD_compress(output, bound, data, (nuint)data.Length, 3);
        Assert.Equal(0u, ZSTD_isError(written));
        return output[..(int)written];
    }

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_compressBound(nuint size);

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_compress(byte[] destination, nuint capacity, byte[] source, nuint size, int level);

    [LibraryImport("libzstd.so.1")]
    private static partial uint ZSTD_isError(nuint code);
}
