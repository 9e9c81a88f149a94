using System.Diagnostics;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// BinlogClient over a fake MySQL server (and, where the test needs reads that end inside events, the
/// slicing proxy): events decoded in place in the 256 KB read buffer, events larger than it or
/// straddling its end, row values that must outlive the buffer, and the hand-written enumerator
/// of ReadEventsAsync (dispose, a second enumeration, cancellation, failures).
/// </summary>
public sealed class BinlogClientStreamingTests
{
    private const string Password = "streaming-dev-password";

    /// <summary>PacketChannel's read buffer; a packet of up to this many bytes less the 4-byte header is handed out in place.</summary>
    private const int ReadBuffer = 256 * 1024;

    /// <summary>The largest payload of one packet; a payload of this length or more continues in the next packet.</summary>
    private const int MaxChunk = 0xFFFFFF;

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    // ---- events larger than the read buffer, and events that straddle it ----

    /// <summary>
    /// Event sizes around the read buffer's limit (a packet is 0x00 + the event: 262139 bytes is the
    /// largest event handed out in place, 262140 the smallest joined into the payload buffer), a
    /// few MB, two sub-1 MB events in a row (the payload buffer is kept and reused below 1 MB), and
    /// small events between them. Every payload is different; all are compared after the last
    /// event is read, so a value that pointed into a reused buffer would show another's bytes.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(997)]
    [InlineData(65_537)]
    [InlineData(ReadBuffer - 1)]
    [InlineData(1 << 20)]
    public async Task Events_around_and_above_the_read_buffer_size_decode_intact_whatever_the_socket_reads(int sliceSize)
    {
        var empty = NetworkDumpScript.EmptyInsertSize("n");
        int[] eventSizes =
        [
            empty + 10,
            ReadBuffer - 4 - 1 - 2, ReadBuffer - 4 - 1 - 1, ReadBuffer - 4 - 1, ReadBuffer - 4, ReadBuffer - 4 + 1,
            empty + 3,
            ReadBuffer + 17,
            3 * 1024 * 1024 + 5,
            empty + 100,
            600_001, 700_003, 1_000_000, 1_048_576 + 9,
            empty,
        ];
        var script = new NetworkDumpScript();
        var expected = new List<(long Id, byte[] Payload)>();
        for (var i = 0; i < eventSizes.Length; i++)
        {
            var payload = NetworkDumpScript.Payload(i, eventSizes[i] - empty);
            var binlogEvent = script.Insert((i, payload, "n"));
            Assert.Equal(eventSizes[i], binlogEvent.Length);
            expected.Add((i, payload));
        }

        // Many events of about 40 KB: with any slicing, most straddle the end of a socket read or of the buffer.
        for (var i = eventSizes.Length; i < eventSizes.Length + 40; i++)
        {
            var payload = NetworkDumpScript.Payload(i, 40_000 + (i * 37));
            script.Insert((i, payload, "n"));
            expected.Add((i, payload));
        }

        var events = await ReadDumpAsync(script, sliceSize);

        var rows = events.OfType<RowsEvent>().Select(e => Assert.Single(e.Rows).After!).ToList();
        Assert.Equal(expected.Count, rows.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Id, rows[i][0].AsInt64());
            AssertBytes(expected[i].Payload, rows[i][1].AsBytes(), $"payload of event {i}");
            Assert.Equal("n", rows[i][2].AsString());
        }

        // An empty value may be the shared empty array: it has no element to change.
        Instances.AssertDistinct(rows.Select(r => r[1].AsBytes()!).Where(a => a.Length > 0));
    }

    /// <summary>
    /// A payload of 0xFFFFFF bytes or more comes as several packets, the last one shorter (empty when
    /// the payload is exactly 0xFFFFFF): the reader joins them. Packets are 0x00 + the event.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1 << 20)]
    public async Task Events_of_16_MB_and_more_that_come_in_several_packets_decode_intact(int sliceSize)
    {
        var empty = NetworkDumpScript.EmptyInsertSize();
        int[] eventSizes = [MaxChunk - 2, MaxChunk - 1, MaxChunk, MaxChunk + 1_000_003, empty];
        var script = new NetworkDumpScript();
        var expected = new List<byte[]>();
        for (var i = 0; i < eventSizes.Length; i++)
        {
            var payload = NetworkDumpScript.Payload(100 + i, eventSizes[i] - empty);
            Assert.Equal(eventSizes[i], script.Insert((i, payload, "")).Length);
            expected.Add(payload);
        }

        var events = await ReadDumpAsync(script, sliceSize);

        var rows = events.OfType<RowsEvent>().Select(e => Assert.Single(e.Rows).After!).ToList();
        Assert.Equal(expected.Count, rows.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(i, rows[i][0].AsInt64());
            AssertBytes(expected[i], rows[i][1].AsBytes(), $"payload of event {i} ({eventSizes[i]} bytes)");
            Assert.Equal("", rows[i][2].AsString());
        }
    }

    // ---- row values never share mutable state ----

    /// <summary>
    /// Multi-row UPDATEs (one larger than the read buffer, so it is joined in the payload buffer
    /// that the next one reuses; two small ones decoded in place), with rows whose payload is the
    /// same before and after (the decoder may reuse a before-image cell for the after image, but
    /// not a byte array). Every image is its own array, every byte[] its own instance, and every
    /// value still holds its bytes after all events are read; changing one value changes no other.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(4093)]
    public async Task Row_images_of_update_events_share_no_arrays_and_keep_their_bytes_after_later_events(int sliceSize)
    {
        var script = new NetworkDumpScript();
        var expected = new List<((long, byte[], string) Before, (long, byte[], string) After)[]>();
        foreach (var (eventSeed, rowCount, size) in new[] { (1, 40, 20_000), (2, 40, 20_000), (3, 6, 1_000), (4, 6, 1_000) })
        {
            var rows = new ((long, byte[], string) Before, (long, byte[], string) After)[rowCount];
            for (var r = 0; r < rowCount; r++)
            {
                var seed = (eventSeed * 1000) + r;
                var before = NetworkDumpScript.Payload(seed, size + r);
                // Even rows keep their payload (same bytes in both images), odd rows change it.
                var after = r % 2 == 0 ? before.ToArray() : NetworkDumpScript.Payload(seed + 500, size + r);
                rows[r] = ((r, before, $"row {r} of {eventSeed}"), (r, after, r % 3 == 0 ? $"row {r} of {eventSeed}" : $"changed é {r}"));
            }

            script.Update(rows);
            script.Xid((ulong)eventSeed);
            expected.Add(rows);
        }

        var events = await ReadDumpAsync(script, sliceSize);

        var updates = events.OfType<RowsEvent>().ToList();
        Assert.Equal(expected.Count, updates.Count);
        Assert.True(updates[0].Header.EventSize > ReadBuffer, "the first update is larger than the read buffer");
        Assert.True(updates[2].Header.EventSize < ReadBuffer / 4, "the small updates fit the read buffer");
        var images = new List<ColumnValue[]>();
        for (var e = 0; e < expected.Count; e++)
        {
            Assert.Equal(RowsEventKind.Update, updates[e].Kind);
            Assert.Equal(expected[e].Length, updates[e].Rows.Count);
            for (var r = 0; r < expected[e].Length; r++)
            {
                var row = updates[e].Rows[r];
                AssertImage(expected[e][r].Before, row.Before, $"event {e} row {r} before");
                AssertImage(expected[e][r].After, row.After, $"event {e} row {r} after");
                images.Add(row.Before!);
                images.Add(row.After!);
            }
        }

        Instances.AssertDistinct(images);
        var arrays = images.Select(i => i[1].AsBytes()!).ToList();
        Instances.AssertDistinct(arrays);

        // Scribbling over one value leaves every other value as it was.
        var snapshot = arrays.Select(a => a.ToArray()).ToList();
        arrays[0][0] ^= 0xFF;
        arrays[0][^1] ^= 0xFF;
        for (var i = 1; i < arrays.Count; i++)
        {
            AssertBytes(snapshot[i], arrays[i], $"value {i} after value 0 was changed");
        }
    }

    // ---- the enumerator ----

    [Fact]
    public async Task Breaking_out_of_await_foreach_closes_the_connection_frees_the_client_and_leaves_the_position_at_the_last_event_yielded()
    {
        var script = SmallEvents(2000);
        await using var server = Server(script);
        await using var proxy = new NetworkSlicingProxy(server.Port, 1 << 20);
        await using var client = new BinlogClient(Options(proxy.Port, blocking: true));
        var sequence = client.ReadEventsAsync();

        BinlogEvent? last = null;
        var count = 0;
        await foreach (var binlogEvent in sequence)
        {
            last = binlogEvent;
            if (++count == 10)
            {
                break;
            }
        }

        // 2000 events were sent and the dump is blocking: only the client can have closed the connection.
        await proxy.ClientClosed(0).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(new BinlogPosition(NetworkFakeMySqlServer.BinlogFile, last!.Header.NextPosition), client.Position);

        // The client is free again: the same sequence enumerates from the start on a new connection.
        await using (var again = sequence.GetAsyncEnumerator())
        {
            Assert.True(await again.MoveNextAsync());
            Assert.IsType<RotateEvent>(again.Current);
            Assert.True(await again.MoveNextAsync());
            Assert.IsType<FormatDescriptionEvent>(again.Current);
        }

        Assert.Equal(2, proxy.Connections);
        await proxy.ClientClosed(1).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Disposing_an_enumerator_that_never_moved_neither_connects_nor_throws()
    {
        await using var server = Server(SmallEvents(3));
        await using var client = new BinlogClient(Options(server.Port, blocking: false));

        await client.ReadEventsAsync().GetAsyncEnumerator().DisposeAsync();

        Assert.Empty(server.ReplicationCommands);
        Assert.Equal(3 + 3, (await ReadAllAsync(client.ReadEventsAsync())).Count);
    }

    [Fact]
    public async Task Enumerating_the_same_sequence_twice_in_turn_reads_the_whole_dump_twice()
    {
        await using var server = Server(SmallEvents(500));
        await using var client = new BinlogClient(Options(server.Port, blocking: false));
        var sequence = client.ReadEventsAsync();

        var first = await ReadAllAsync(sequence);
        var second = await ReadAllAsync(sequence);

        // Each enumeration is one connection and one dump: COM_REGISTER_SLAVE and COM_BINLOG_DUMP twice.
        Assert.Equal([0x15, 0x12, 0x15, 0x12], server.ReplicationCommands.Select(c => c[0]));
        Assert.Equal(500 + 3, first.Count);
        Assert.Equal(first.Select(e => (e.Type, e.Header.Position, e.Header.NextPosition)), second.Select(e => (e.Type, e.Header.Position, e.Header.NextPosition)));
        Assert.Equal(
            first.OfType<RowsEvent>().Select(r => r.Rows[0].After![2].AsString()),
            second.OfType<RowsEvent>().Select(r => r.Rows[0].After![2].AsString()));
        Assert.Equal(new BinlogPosition(NetworkFakeMySqlServer.BinlogFile, first[^1].Header.NextPosition), client.Position);
    }

    [Fact]
    public async Task A_second_enumeration_while_one_runs_throws_InvalidOperationException_and_the_first_reads_on()
    {
        await using var server = Server(SmallEvents(300));
        await using var client = new BinlogClient(Options(server.Port, blocking: false));
        var sequence = client.ReadEventsAsync();

        await using var first = sequence.GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());

        await using (var second = sequence.GetAsyncEnumerator())
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await second.MoveNextAsync());
            Assert.Contains("already reading", error.Message, StringComparison.Ordinal);
            Assert.False(await second.MoveNextAsync());
        }

        // The failed enumeration did not take the client from the running one, nor free it.
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await ReadAllAsync(client.ReadEventsAsync()));

        var rest = 0;
        while (await first.MoveNextAsync())
        {
            rest++;
        }

        Assert.Equal(300 + 3 - 1, rest);
        Assert.Equal(2, server.ReplicationCommands.Count);
        Assert.Equal(300 + 3, (await ReadAllAsync(sequence)).Count);
    }

    public enum TokenPlace
    {
        ReadEventsAsync,
        WithCancellation,
        BothTheFirstCancelled,
        BothTheSecondCancelled,
    }

    /// <summary>The dump is blocking and the server has nothing more to send: only the token can end the wait, well before the 60 s read timeout.</summary>
    [Theory]
    [InlineData(TokenPlace.ReadEventsAsync)]
    [InlineData(TokenPlace.WithCancellation)]
    [InlineData(TokenPlace.BothTheFirstCancelled)]
    [InlineData(TokenPlace.BothTheSecondCancelled)]
    public async Task Cancelling_while_the_enumeration_waits_for_the_server_ends_it_promptly_with_OperationCanceledException(TokenPlace place)
    {
        await using var server = Server(SmallEvents(20));
        await using var client = new BinlogClient(Options(server.Port, blocking: true));
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        // await foreach (… in sequence.WithCancellation(token)) passes the token to GetAsyncEnumerator.
        await using var events = place switch
        {
            TokenPlace.ReadEventsAsync => client.ReadEventsAsync(first.Token).GetAsyncEnumerator(),
            TokenPlace.WithCancellation => client.ReadEventsAsync().GetAsyncEnumerator(second.Token),
            _ => client.ReadEventsAsync(first.Token).GetAsyncEnumerator(second.Token),
        };
        var cancel = place is TokenPlace.WithCancellation or TokenPlace.BothTheSecondCancelled ? second : first;

        for (var i = 0; i < 20 + 3; i++)
        {
            Assert.True(await events.MoveNextAsync());
        }

        var next = events.MoveNextAsync().AsTask();
        await Task.Delay(200);
        Assert.False(next.IsCompleted, "the blocking dump has nothing more to send");
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"cancelled after {clock.Elapsed}");
        Assert.False(await events.MoveNextAsync());

        // The cancelled enumeration freed the client.
        Assert.Equal(20 + 3, (await ReadAllAsync(client.ReadEventsAsync(), stopAfter: 20 + 3)).Count);
    }

    /// <summary>
    /// While the server keeps sending, a cancelled enumeration may still hand out the events its
    /// last socket read brought in (at most one read buffer's worth) and then ends with
    /// OperationCanceledException at the next read.
    /// </summary>
    [Fact]
    public async Task Cancelling_in_the_middle_of_a_burst_ends_the_enumeration_within_one_read_buffer_of_events()
    {
        var script = SmallEvents(30_000);
        var smallest = script.Events.Skip(3).Min(e => e.Length);
        await using var server = Server(script);
        await using var client = new BinlogClient(Options(server.Port, blocking: true));
        using var cancellation = new CancellationTokenSource();

        var read = 0;
        var afterCancel = 0;
        var clock = new Stopwatch();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.ReadEventsAsync(cancellation.Token))
            {
                if (++read == 50)
                {
                    await cancellation.CancelAsync();
                    clock.Start();
                }
                else if (read > 50)
                {
                    afterCancel++;
                }
            }
        });

        Assert.True(afterCancel <= (ReadBuffer / smallest) + 1, $"{afterCancel} events came after the cancellation, more than the read buffer holds");
        Assert.True(read < 30_000 + 3, "the enumeration ended before the dump did");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"ended {clock.Elapsed} after the cancellation");
    }

    [Fact]
    public async Task Disposing_the_client_mid_stream_fails_the_next_move_even_with_events_still_buffered()
    {
        await using var server = Server(SmallEvents(3000));
        var client = new BinlogClient(Options(server.Port, blocking: true));
        await using var events = client.ReadEventsAsync().GetAsyncEnumerator();
        for (var i = 0; i < 20; i++)
        {
            Assert.True(await events.MoveNextAsync());
        }

        await client.DisposeAsync();

        await Assert.ThrowsAsync<BinlogConnectionException>(async () => await events.MoveNextAsync());
        Assert.False(await events.MoveNextAsync());
        Assert.Throws<ObjectDisposedException>(() => client.ReadEventsAsync());
    }

    /// <summary>A decoding failure in the synchronous (buffered) path also closes the connection before the caller sees it.</summary>
    [Fact]
    public async Task A_corrupt_event_in_the_middle_of_a_buffered_burst_ends_the_enumeration_and_frees_the_client()
    {
        var script = SmallEvents(200);
        var corrupt = script.Events[3 + 100];
        corrupt[EventHeaderSize + 12] ^= 0x01;
        await using var server = Server(script);
        await using var proxy = new NetworkSlicingProxy(server.Port, 1 << 20);
        await using var client = new BinlogClient(Options(proxy.Port, blocking: true));
        var sequence = client.ReadEventsAsync();

        var yielded = new List<BinlogEvent>();
        var error = await Assert.ThrowsAsync<BinlogFormatException>(async () =>
        {
            await foreach (var binlogEvent in sequence)
            {
                yielded.Add(binlogEvent);
            }
        });

        Assert.Contains("CRC32", error.Message, StringComparison.Ordinal);
        Assert.Equal(3 + 100, yielded.Count);
        await proxy.ClientClosed(0).WaitAsync(TimeSpan.FromSeconds(5));
        await using var again = sequence.GetAsyncEnumerator();
        Assert.True(await again.MoveNextAsync());
    }

    private const int EventHeaderSize = 19;

    /// <summary>The table, then <paramref name="count"/> one-row inserts with short notes of varying length.</summary>
    private static NetworkDumpScript SmallEvents(int count)
    {
        var script = new NetworkDumpScript();
        for (var i = 0; i < count; i++)
        {
            script.Insert((i, [(byte)i, (byte)(i >> 8)], new string('x', i % 37) + i));
        }

        return script;
    }

    private static NetworkFakeMySqlServer Server(NetworkDumpScript script)
    {
        var server = new NetworkFakeMySqlServer();
        server.Accounts.Add(("cdc", Password, "mysql_native_password"));
        server.DumpEvents.AddRange(script.Events);
        return server;
    }

    private static BinlogClientOptions Options(int port, bool blocking) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        User = "cdc",
        Password = Password,
        ServerId = 2901,
        SslMode = BinlogSslMode.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ReadTimeout = TimeSpan.FromSeconds(60),
        Start = StartPosition.At(NetworkFakeMySqlServer.BinlogFile, 4),
        Blocking = blocking,
    };

    /// <summary>Every event of a non-blocking dump, through the slicing proxy unless <paramref name="sliceSize"/> is 0.</summary>
    private static async Task<List<BinlogEvent>> ReadDumpAsync(NetworkDumpScript script, int sliceSize)
    {
        await using var server = Server(script);
        await using var proxy = sliceSize > 0 ? new NetworkSlicingProxy(server.Port, sliceSize) : null;
        await using var client = new BinlogClient(Options(proxy?.Port ?? server.Port, blocking: false));
        var events = await ReadAllAsync(client.ReadEventsAsync());
        Assert.Equal(script.Events.Count, events.Count);
        Assert.IsType<RotateEvent>(events[0]);
        Assert.IsType<FormatDescriptionEvent>(events[1]);
        Assert.IsType<TableMapEvent>(events[2]);
        return events;
    }

    private static async Task<List<BinlogEvent>> ReadAllAsync(IAsyncEnumerable<BinlogEvent> sequence, int stopAfter = int.MaxValue)
    {
        using var timeout = new CancellationTokenSource(Limit);
        var events = new List<BinlogEvent>();
        await foreach (var binlogEvent in sequence.WithCancellation(timeout.Token))
        {
            events.Add(binlogEvent);
            if (events.Count == stopAfter)
            {
                break;
            }
        }

        return events;
    }

    private static void AssertImage((long Id, byte[] Payload, string Note) expected, ColumnValue[]? actual, string what)
    {
        Assert.NotNull(actual);
        Assert.Equal(3, actual.Length);
        Assert.Equal(expected.Id, actual[0].AsInt64());
        AssertBytes(expected.Payload, actual[1].AsBytes(), what);
        Assert.Equal(expected.Note, actual[2].AsString());
    }

    private static void AssertBytes(byte[] expected, byte[]? actual, string what)
    {
        Assert.NotNull(actual);
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} bytes, expected {expected.Length}");
        var mismatch = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(mismatch == expected.Length, $"{what}: differs at byte {mismatch} of {expected.Length}");
    }
}
