using System.IO.Compression;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests;

/// <summary>
/// A hostile or broken server's compressed events: a header that declares far more than its data
/// holds must fail without allocating what it declares.
/// </summary>
public sealed class CompressedEventBoundsTests
{
    private const int NineHundredMegabytes = 900 * 1024 * 1024;

    private static byte[] Zlib(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>A MariaDB QUERY_COMPRESSED event whose record declares <paramref name="declared"/> bytes (4 length bytes) for <paramref name="data"/>.</summary>
    private static byte[] CompressedQueryBody(long declared, byte[] data) =>
        Concat(U32(5), U32(0), [2], U16(0), U16(0), Utf8("db"), [0], [0x84], BigEndian((ulong)declared, 4), Zlib(data));

    private static long Allocated(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_mariadb_compressed_event_declaring_900_MB_for_a_few_bytes_fails_before_allocating_them()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var decoder = b.StartDecoder();
        var raw = b.Event(BinlogEventType.QueryCompressed, CompressedQueryBody(NineHundredMegabytes, Utf8("SELECT 1")));
        BinlogFormatException? error = null;
        var allocated = Allocated(() => error = Assert.Throws<BinlogFormatException>(() => decoder.Decode(raw, EventBuilder.File)));
        Assert.Contains("compressed bytes can hold", error!.Message);
        Assert.True(allocated < 1_000_000, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_mariadb_compressed_event_that_inflates_to_less_than_it_declares_allocates_only_what_it_inflates_to()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var decoder = b.StartDecoder();
        // 4 KB of zeros compress to a few dozen bytes; the header claims the most that many bytes could hold.
        var data = new byte[4096];
        var compressed = Zlib(data);
        var raw = b.Event(BinlogEventType.QueryCompressed, CompressedQueryBody(compressed.Length * 1032L, data));
        BinlogFormatException? error = null;
        var allocated = Allocated(() => error = Assert.Throws<BinlogFormatException>(() => decoder.Decode(raw, EventBuilder.File)));
        Assert.Contains("does not inflate to", error!.Message);
        Assert.True(allocated < 200_000, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_compressed_event_larger_than_the_configured_limit_fails_naming_it()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var decoder = new BinlogEventDecoder(new BinlogDecoderOptions { MaxDecompressedSize = 1000 });
        decoder.Decode(b.FormatDescription(), EventBuilder.File);
        var sql = new string('x', 2000);
        var raw = b.Event(BinlogEventType.QueryCompressed, CompressedQueryBody(sql.Length, Utf8(sql)));
        var error = Assert.Throws<BinlogFormatException>(() => decoder.Decode(raw, EventBuilder.File));
        Assert.Contains("more than the 1000 allowed", error.Message);
    }

    [Fact]
    public void A_transaction_payload_declaring_900_MB_allocates_only_what_its_data_inflates_to()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var payload = new byte[64];
        var body = Concat(
            Packed(2), Packed(1), Packed(0),                                                   // compression type: zstd
            Packed(3), Packed((ulong)Packed(NineHundredMegabytes).Length), Packed(NineHundredMegabytes), // uncompressed size
            Packed(1), Packed((ulong)Packed((ulong)payload.Length).Length), Packed((ulong)payload.Length), // payload size
            Packed(0),
            payload);
        var raw = b.Event(BinlogEventType.TransactionPayload, body);
        var allocated = Allocated(() => Assert.Throws<BinlogFormatException>(() => decoder.Decode(raw, EventBuilder.File)));
        Assert.True(allocated < 1_000_000, $"{allocated} bytes allocated");
    }
}
