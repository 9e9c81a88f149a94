using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using Xunit.Abstractions;
using static Replicator.Binlog.Tests.PayloadBuilder;

namespace Replicator.Binlog.Tests;

/// <summary>Tests that measure the process's live heap, which other tests running beside them would disturb: they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    public const string Name = "Memory measurements";
}

/// <summary>The memory a MySQL compressed transaction takes to read, streamed and whole.</summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class TransactionPayloadMemoryTests(ITestOutputHelper output)
{
    private static readonly BinlogDecoderOptions Streamed = new() { StreamTransactionPayloads = true };

    /// <summary>
    /// A 24 MB transaction (1,200 rows events of 20 KB) compressed to a fraction of that: streamed,
    /// the window never grows past 64 KB and the live heap stays within a few MB; whole, the live
    /// heap holds the inflated transaction and every decoded row.
    /// </summary>
    [Fact]
    public void A_large_compressed_transaction_is_read_through_a_window_bounded_by_its_largest_event()
    {
        const int Events = 1_200;
        var (raw, uncompressed, largest) = LargePayload(Events, rowsPerEvent: 20, cell: 1_000);
        output.WriteLine($"payload: {uncompressed:N0} bytes uncompressed, {raw.Length:N0} compressed, largest inner event {largest:N0}");

        // Whole: what the decode leaves live while its event is held.
        var b = new EventBuilder();
        var wholeDecoder = b.StartDecoder();
        var baseline = LiveBytes();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var whole = (TransactionPayloadEvent)wholeDecoder.Decode(raw, EventBuilder.File);
        var wholeAllocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var wholeLive = LiveBytes() - baseline;
        Assert.Equal(Events + 3, whole.Events.Count);
        GC.KeepAlive(whole);
        whole = null;

        // Streamed: the most that is live at any part, the parts dropped as they are read.
        var streamDecoder = new EventBuilder().StartDecoder(Streamed);
        baseline = LiveBytes();
        allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var stream = streamDecoder.OpenPayloadStream(raw, EventBuilder.File);
        long peakLive = 0;
        var count = 0;
        var rows = 0;
        while (streamDecoder.NextPayloadPart(stream) is { } part)
        {
            count++;
            rows += part.Event is RowsEvent r ? r.Rows.Count : 0;
            if (count % 100 == 0)
            {
                peakLive = Math.Max(peakLive, LiveBytes() - baseline);
            }
        }

        var streamAllocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        output.WriteLine($"whole:    live {wholeLive:N0} bytes after the decode, {wholeAllocated:N0} allocated");
        output.WriteLine($"streamed: peak live {peakLive:N0} bytes, window {streamDecoder.LargestPayloadWindow:N0}, {streamAllocated:N0} allocated (decoded rows, dropped as read)");

        Assert.Equal(Events + 3, count);
        Assert.Equal(Events * 20, rows);
        Assert.True(streamDecoder.LargestPayloadWindow <= Math.Max(BinlogEventDecoder.InitialPayloadWindow, 2 * largest), $"window {streamDecoder.LargestPayloadWindow}");
        Assert.True(wholeLive > uncompressed, $"the whole decode holds {wholeLive} bytes, less than the {uncompressed} it inflates: the measure is wrong");
        Assert.True(peakLive < 4 * 1024 * 1024, $"streamed peak live {peakLive} bytes");
    }

    private static long LiveBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
