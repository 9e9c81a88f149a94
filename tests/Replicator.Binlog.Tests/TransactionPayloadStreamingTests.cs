using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using Xunit.Abstractions;
using static Replicator.Binlog.Tests.Bytes;
using static Replicator.Binlog.Tests.PayloadBuilder;

namespace Replicator.Binlog.Tests;

/// <summary>
/// MySQL compressed transactions read an inner event at a time (<see cref="BinlogDecoderOptions.StreamTransactionPayloads"/>):
/// the parts are the events the whole-buffer decode gives, in order; memory stays bounded by the
/// largest inner event however large the transaction; and broken payloads fail naming the event.
/// </summary>
public sealed class TransactionPayloadStreamingTests(ITestOutputHelper output)
{
    private static readonly BinlogDecoderOptions Streamed = new() { StreamTransactionPayloads = true };

    /// <summary>Every fixture holding a TRANSACTION_PAYLOAD (the MySQL 8 binlog_transaction_compression ones).</summary>
    public static TheoryData<string> CompressedFixtures()
    {
        var data = new TheoryData<string>();
        foreach (var fixture in FixturePaths.FixtureNames())
        {
            var text = File.ReadAllText(FixturePaths.ExpectedFile(fixture));
            if (text.Contains("inner_events", StringComparison.Ordinal))
            {
                data.Add(fixture);
            }
        }

        return data;
    }

    [Fact]
    public void The_fixtures_hold_compressed_transactions()
    {
        Assert.True(CompressedFixtures().Count >= 2);
    }

    [Theory]
    [MemberData(nameof(CompressedFixtures))]
    public async Task Streamed_parts_are_the_inner_events_of_the_whole_decode_in_order(string fixture)
    {
        var whole = await ReadAsync(FixturePaths.BinlogFile(fixture), null);
        var parts = await ReadAsync(FixturePaths.BinlogFile(fixture), Streamed);

        var expected = new List<string>();
        var payloads = 0;
        foreach (var e in whole)
        {
            if (e is TransactionPayloadEvent payload)
            {
                payloads++;
                Assert.Equal(0, payload.CompressionType);
                for (var i = 0; i < payload.Events.Count; i++)
                {
                    expected.Add($"part {payload.Header.Position}/{payload.Header.NextPosition} #{i} last={i == payload.Events.Count - 1} size={payload.UncompressedSize}: {Describe(payload.Events[i])}");
                }
            }
            else
            {
                expected.Add(Describe(e));
            }
        }

        var actual = new List<string>();
        long offset = -1;
        foreach (var e in parts)
        {
            Assert.IsNotType<TransactionPayloadEvent>(e);
            if (e is TransactionPayloadPart part)
            {
                Assert.Equal(0, part.CompressionType);
                Assert.True(part.Index == 0 ? part.PayloadOffset == 0 : part.PayloadOffset > offset, "payload offsets grow");
                offset = part.PayloadOffset;
                actual.Add($"part {part.Header.Position}/{part.Header.NextPosition} #{part.Index} last={part.IsLast} size={part.UncompressedSize}: {Describe(part.Event)}");
            }
            else
            {
                actual.Add(Describe(e));
            }
        }

        Assert.True(payloads > 0, $"{fixture} has no TRANSACTION_PAYLOAD");
        Assert.Equal(expected, actual);
        Assert.True(parts.Count > whole.Count, "the parts come one by one");
    }

    [Theory]
    [MemberData(nameof(CompressedFixtures))]
    public async Task A_schema_source_completes_a_streamed_payloads_table_map_as_it_does_the_whole_ones(string fixture)
    {
        var wholeSource = new NamingSchemaSource();
        var partsSource = new NamingSchemaSource();
        var whole = new List<BinlogEvent>();
        await foreach (var e in BinlogFileReader.ReadAsync(FixturePaths.BinlogFile(fixture), wholeSource))
        {
            whole.AddRange(e is TransactionPayloadEvent payload ? payload.Events : [e]);
        }

        var parts = new List<BinlogEvent>();
        await foreach (var e in BinlogFileReader.ReadAsync(FixturePaths.BinlogFile(fixture), partsSource, Streamed))
        {
            parts.Add(e is TransactionPayloadPart part ? part.Event : e);
        }

        Assert.True(partsSource.Calls > 0);
        Assert.Equal(wholeSource.Calls, partsSource.Calls);
        Assert.Equal(whole.Select(Describe), parts.Select(Describe));
        Assert.All(parts.OfType<RowsEvent>(), rows => Assert.StartsWith("named", rows.Table.Columns[0].Name, StringComparison.Ordinal));
    }

    [Fact]
    public void A_window_grows_for_an_inner_event_larger_than_it_and_only_to_that_event()
    {
        var (raw, _, largest) = LargePayload(events: 3, rowsPerEvent: 300, cell: 1_000);
        Assert.True(largest > BinlogEventDecoder.InitialPayloadWindow);
        var decoder = new EventBuilder().StartDecoder(Streamed);
        var stream = decoder.OpenPayloadStream(raw, EventBuilder.File);
        var rows = new List<RowsEvent>();
        while (decoder.NextPayloadPart(stream) is { } part)
        {
            if (part.Event is RowsEvent r)
            {
                rows.Add(r);
            }
        }

        Assert.Equal(3, rows.Count);
        Assert.InRange(decoder.LargestPayloadWindow, largest, 2 * largest);
        // Rows decoded from the reused window keep their own values.
        Assert.Equal(Cell(0, 0, 1_000), rows[0].Rows[0].After![1].ToString());
        Assert.Equal(Cell(2, 299, 1_000), rows[2].Rows[299].After![1].ToString());
    }

    [Fact]
    public void Two_zstd_frames_back_to_back_read_as_one_payload()
    {
        var events = InnerEvents(4, rowsPerEvent: 2, cell: 50);
        var half = events.Count / 2;
        var first = Concat(events.Take(half).ToArray());
        var second = Concat(events.Skip(half).ToArray());
        var all = Concat(first, second);
        var raw = PayloadEvent(new EventBuilder(), Concat(ZstdCompress(first), ZstdCompress(second)), all.Length);
        var decoder = new EventBuilder().StartDecoder(Streamed);
        var parts = ReadParts(decoder, raw);
        Assert.Equal(events.Count, parts.Count);
        Assert.True(parts[^1].IsLast);
        Assert.IsType<XidEvent>(parts[^1].Event);
    }

    // ---- malformed payloads: each fails naming the file and the outer event's position ----

    public static TheoryData<string> Malformations() => new()
    {
        "truncated frame",
        "bad magic",
        "declared size over the cap",
        "undeclared size inflating past the cap",
        "inflates to more than declared",
        "inflates to less than declared",
        "inner event length past the payload",
        "inner event shorter than a header",
        "empty zstd data",
    };

    [Theory]
    [MemberData(nameof(Malformations))]
    public void A_malformed_payload_fails_naming_the_file_and_position_without_a_hang_or_a_large_allocation(string malformation)
    {
        var events = InnerEvents(3, rowsPerEvent: 2, cell: 100);
        var data = Concat(events.ToArray());
        var compressed = ZstdCompress(data);
        var declared = (long)data.Length;
        var options = Streamed;
        switch (malformation)
        {
            case "truncated frame":
                compressed = compressed[..^7];
                break;
            case "bad magic":
                compressed[0] ^= 0xFF;
                break;
            case "declared size over the cap":
                options = Streamed with { MaxDecompressedSize = 500 };
                break;
            case "undeclared size inflating past the cap":
                options = Streamed with { MaxDecompressedSize = 500 };
                declared = 0;
                break;
            case "inflates to more than declared":
                declared -= 10;
                break;
            case "inflates to less than declared":
                declared += 10;
                break;
            case "inner event length past the payload":
                // The second event's size field: far more than the payload holds.
                BitConverter.GetBytes(900_000_000u).CopyTo(data, events[0].Length + 9);
                compressed = ZstdCompress(data);
                break;
            case "inner event shorter than a header":
                BitConverter.GetBytes(5u).CopyTo(data, events[0].Length + 9);
                compressed = ZstdCompress(data);
                break;
            case "empty zstd data":
                compressed = [];
                break;
        }

        var b = new EventBuilder();
        var decoder = b.StartDecoder(options);
        var at = b.Position;
        var raw = PayloadEvent(b, compressed, declared);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var streamed = Assert.Throws<BinlogFormatException>(() => ReadParts(decoder, raw));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{malformation}: {streamed.Message}");
        Assert.Equal(EventBuilder.File, streamed.File);
        Assert.Equal(at, streamed.Position);
        Assert.Contains(EventBuilder.File, streamed.Message);
        Assert.Contains("TransactionPayload", streamed.Message);
        Assert.True(allocated < 1_000_000, $"{allocated} bytes allocated");

        // The whole-buffer decode refuses it too: both paths agree on what is malformed.
        var wholeDecoder = new EventBuilder().StartDecoder(options with { StreamTransactionPayloads = false });
        var whole = Assert.Throws<BinlogFormatException>(() => wholeDecoder.Decode(raw, EventBuilder.File));
        Assert.Equal(at, whole.Position);

        // After a failure the decoder reads the next payload normally.
        var small = InnerEvents(1, rowsPerEvent: 1, cell: 10);
        var good = PayloadEvent(b, ZstdCompress(Concat(small.ToArray())), Concat(small.ToArray()).Length);
        var recovered = new EventBuilder().StartDecoder(options);
        Assert.Throws<BinlogFormatException>(() => ReadParts(recovered, raw));
        Assert.Equal(small.Count, ReadParts(recovered, good).Count);
    }

    [Fact]
    public void A_payload_cut_short_never_yields_its_closing_event()
    {
        var events = InnerEvents(50, rowsPerEvent: 5, cell: 200);
        var data = Concat(events.ToArray());
        var compressed = ZstdCompress(data)[..^40];
        var decoder = new EventBuilder().StartDecoder(Streamed);
        var raw = PayloadEvent(new EventBuilder(), compressed, data.Length);
        var stream = decoder.OpenPayloadStream(raw, EventBuilder.File);
        var seen = new List<BinlogEvent>();
        Assert.Throws<BinlogFormatException>(() =>
        {
            while (decoder.NextPayloadPart(stream) is { } part)
            {
                seen.Add(part.Event);
            }
        });
        Assert.DoesNotContain(seen, e => e is XidEvent);
        Assert.Null(decoder.NextPayloadPart(stream));
    }

    // ---- helpers ----

    private static async Task<List<BinlogEvent>> ReadAsync(string path, BinlogDecoderOptions? options)
    {
        var events = new List<BinlogEvent>();
        await foreach (var e in BinlogFileReader.ReadAsync(path, options: options))
        {
            events.Add(e);
        }

        return events;
    }

    private static List<TransactionPayloadPart> ReadParts(BinlogEventDecoder decoder, byte[] raw)
    {
        var stream = decoder.OpenPayloadStream(raw, EventBuilder.File);
        var parts = new List<TransactionPayloadPart>();
        while (decoder.NextPayloadPart(stream) is { } part)
        {
            parts.Add(part);
        }

        return parts;
    }

    /// <summary>An event as text precise enough to tell two decodes apart: its header, its fields, and each row's cells.</summary>
    private static string Describe(BinlogEvent e) => e switch
    {
        RowsEvent rows => $"{rows with { Rows = [] }} rows: {string.Join(" | ", rows.Rows.Select(r => $"{Cells(r.Before)} -> {Cells(r.After)}"))}",
        TableMapEvent map => $"{map} {map.Database}.{map.Table} {map.TableId} [{string.Join(",", map.ColumnTypes)}] [{string.Join(",", map.Schema.Columns.Select(c => $"{c.Name}:{c.Type}"))}]",
        _ => e.ToString(),
    };

    private static string Cells(ColumnValue[]? cells) => cells is null ? "-" : string.Join(",", cells.Select(c => $"{c.Kind}:{c}"));


    /// <summary>Names the columns named0, named1, …; counts its calls.</summary>
    private sealed class NamingSchemaSource : ITableSchemaSource
    {
        public int Calls { get; private set; }

        public ValueTask<TableSchema?> CompleteAsync(TableMapEvent tableMap, TableSchema fromTableMap, CancellationToken cancellationToken)
        {
            Calls++;
            return ValueTask.FromResult<TableSchema?>(new TableSchema(fromTableMap.Schema, fromTableMap.Table, fromTableMap.Columns.Select((c, i) => c with { Name = $"named{i}" }).ToList(), fromTableMap.PrimaryKey));
        }

        public void Invalidate(string? schema, string? table)
        {
        }
    }
}
