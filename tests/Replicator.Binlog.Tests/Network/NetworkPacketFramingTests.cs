using System.Net;
using System.Net.Sockets;
using Replicator.Binlog.Network;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Tests.Network;

/// <summary>PacketChannel against a raw socket on the other end: headers, sequence ids, 16 MB splitting, timeouts.</summary>
public sealed class NetworkPacketFramingTests : IAsyncLifetime
{
    private const int MaxChunk = 0xFFFFFF;

    private Socket _peer = null!;
    private PacketChannel _channel = null!;

    public async Task InitializeAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptSocketAsync();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        _peer = await accept;
        _channel = new PacketChannel(new NetworkStream(client, ownsSocket: true), "test-peer:3306", TimeSpan.FromSeconds(10));
    }

    public async Task DisposeAsync()
    {
        await _channel.DisposeAsync();
        _peer.Dispose();
    }

    [Fact]
    public async Task A_small_payload_goes_out_as_one_packet_with_length_and_sequence()
    {
        await _channel.WritePayloadAsync(new byte[] { 0x03, (byte)'h', (byte)'i' }, CancellationToken.None);
        await _channel.WritePayloadAsync(new byte[] { 0x0E }, CancellationToken.None);

        Assert.Equal(new byte[] { 3, 0, 0, 0, 0x03, (byte)'h', (byte)'i', 1, 0, 0, 1, 0x0E }, await ReceiveAsync(12));
    }

    [Fact]
    public async Task A_payload_of_exactly_0xFFFFFF_bytes_is_followed_by_an_empty_packet()
    {
        var payload = Pattern(MaxChunk);

        var write = _channel.WritePayloadAsync(payload, CancellationToken.None).AsTask();
        var received = await ReceiveAsync(4 + MaxChunk + 4);
        await write;

        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0 }, received[..4]);
        Assert.True(received.AsSpan(4, MaxChunk).SequenceEqual(payload));
        Assert.Equal(new byte[] { 0, 0, 0, 1 }, received[^4..]);
    }

    [Fact]
    public async Task A_payload_over_16_MB_is_split_into_a_full_packet_and_the_rest()
    {
        var payload = Pattern(MaxChunk + 10);

        var write = _channel.WritePayloadAsync(payload, CancellationToken.None).AsTask();
        var received = await ReceiveAsync(4 + MaxChunk + 4 + 10);
        await write;

        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0 }, received[..4]);
        Assert.Equal(new byte[] { 10, 0, 0, 1 }, received[(4 + MaxChunk)..(8 + MaxChunk)]);
        Assert.True(received.AsSpan(8 + MaxChunk).SequenceEqual(payload.AsSpan(MaxChunk)));
    }

    [Fact]
    public async Task Continuation_packets_are_joined_into_one_payload()
    {
        var payload = Pattern(MaxChunk + 5);
        var send = SendAsync([0xFF, 0xFF, 0xFF, 0], payload[..MaxChunk], [5, 0, 0, 1], payload[MaxChunk..]);

        var read = await _channel.ReadPayloadAsync(CancellationToken.None);
        await send;

        Assert.Equal(MaxChunk + 5, read.Length);
        Assert.True(read.Span.SequenceEqual(payload));
    }

    [Fact]
    public async Task A_0xFFFFFF_payload_ends_at_the_empty_packet_after_it()
    {
        var payload = Pattern(MaxChunk);
        var send = SendAsync([0xFF, 0xFF, 0xFF, 0], payload, [0, 0, 0, 1], [1, 0, 0, 2, 0x2A]);

        var first = (await _channel.ReadPayloadAsync(CancellationToken.None)).ToArray();
        var second = (await _channel.ReadPayloadAsync(CancellationToken.None)).ToArray();
        await send;

        Assert.Equal(payload, first);
        Assert.Equal(new byte[] { 0x2A }, second);
    }

    [Fact]
    public async Task Several_packets_in_one_segment_are_read_one_by_one()
    {
        await SendAsync([1, 0, 0, 0, 0xA1, 2, 0, 0, 1, 0xB1, 0xB2, 0, 0, 0, 2]);

        Assert.Equal(new byte[] { 0xA1 }, (await _channel.ReadPayloadAsync(CancellationToken.None)).ToArray());
        Assert.Equal(new byte[] { 0xB1, 0xB2 }, (await _channel.ReadPayloadAsync(CancellationToken.None)).ToArray());
        Assert.Empty((await _channel.ReadPayloadAsync(CancellationToken.None)).ToArray());
    }

    [Fact]
    public async Task A_packet_out_of_sequence_breaks_the_connection()
    {
        await SendAsync([1, 0, 0, 5, 0xA1]);

        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await _channel.ReadPayloadAsync(CancellationToken.None));

        Assert.Contains("packet number 5 where number 0 was expected", error.Message, StringComparison.Ordinal);
        Assert.True(_channel.IsBroken);
    }

    [Fact]
    public async Task A_silent_peer_fails_the_read_after_the_timeout()
    {
        _channel.Timeout = TimeSpan.FromMilliseconds(500);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await _channel.ReadPayloadAsync(CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(5));
        Assert.Equal("no data from test-peer:3306 for 0.5s: the connection is dead or half-open", error.Message);
    }

    [Fact]
    public async Task A_packet_that_arrives_slowly_but_steadily_does_not_time_out()
    {
        // The packet takes 2 s in all, longer than the 1.5 s timeout, but no gap comes near it: a
        // gap of 400 ms leaves a loaded machine over a second of slack before a false timeout.
        _channel.Timeout = TimeSpan.FromMilliseconds(1500);
        var read = _channel.ReadPayloadAsync(CancellationToken.None).AsTask();
        foreach (var piece in new byte[][] { [3, 0], [0, 0], [7], [8], [9] })
        {
            await Task.Delay(400);
            await SendAsync(piece);
        }

        Assert.Equal(new byte[] { 7, 8, 9 }, (await read).ToArray());
    }

    [Fact]
    public async Task A_peer_that_closes_ends_the_read_with_a_connection_error()
    {
        _peer.Shutdown(SocketShutdown.Both);

        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await _channel.ReadPayloadAsync(CancellationToken.None));

        Assert.Contains("test-peer:3306 closed the connection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_read_leaves_the_channel_unusable()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await _channel.ReadPayloadAsync(cancel.Token));

        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await _channel.ReadPayloadAsync(CancellationToken.None));
        Assert.Contains("can no longer be used", error.Message, StringComparison.Ordinal);
    }

    private async Task SendAsync(params byte[][] parts)
    {
        foreach (var part in parts)
        {
            await _peer.SendAsync(part);
        }
    }

    private async Task<byte[]> ReceiveAsync(int count)
    {
        var buffer = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await _peer.ReceiveAsync(buffer.AsMemory(read));
            Assert.NotEqual(0, n);
            read += n;
        }

        return buffer;
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i * 31 + (i >> 8));
        }

        return bytes;
    }
}
