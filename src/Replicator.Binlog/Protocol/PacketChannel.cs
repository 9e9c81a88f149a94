using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using Replicator.Binlog.Network;

namespace Replicator.Binlog.Protocol;

/// <summary>
/// Frames the client/server protocol over a byte stream: every packet is a 3-byte little-endian
/// payload length, a 1-byte sequence id and the payload. A payload of 16 MB - 1 (0xFFFFFF) bytes or
/// more is split into 0xFFFFFF-byte packets ended by a shorter one (possibly empty); the reader
/// joins them again. Sequence ids start at 0 with each command and must follow each other.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html
/// <para>
/// Every socket read and write is bounded by <see cref="Timeout"/>: a peer that sends nothing for
/// that long (frozen, or behind a half-open TCP connection) fails the read with a
/// <see cref="BinlogConnectionException"/>. After any failure or cancellation the channel is
/// unusable, since the stream position within a packet is lost. Not thread-safe; only
/// <see cref="DisposeAsync"/> may be called concurrently, to abort a pending read.
/// </para>
/// </summary>
internal sealed class PacketChannel : IAsyncDisposable
{
    /// <summary>The largest payload one packet carries; a payload this long continues in the next packet.</summary>
    public const int MaxChunkLength = 0xFFFFFF;

    /// <summary>The largest payload accepted after joining packets: the server's max_allowed_packet ceiling (1 GB).</summary>
    public const int MaxPayloadLength = 1 << 30;

    /// <summary>
    /// The read buffer: one socket read fills it with as many packets as have arrived, and the
    /// binlog stream's small events are then taken from it in place, without waiting or copying.
    /// </summary>
    private const int ReadBufferSize = 256 * 1024;

    private const int WriteBufferSize = 64 * 1024;
    private const int RetainedPayloadCapacity = 1024 * 1024;

    private readonly byte[] _readBuffer = new byte[ReadBufferSize];
    private readonly byte[] _writeBuffer = new byte[WriteBufferSize];
    private Stream _stream;
    private byte[] _payload = new byte[4096];
    private int _readStart;
    private int _readEnd;
    private byte _sequence;
    private CancellationTokenSource? _timer;
    private Exception? _failure;
    private volatile bool _disposed;

    public PacketChannel(Stream stream, string endpoint, TimeSpan timeout)
    {
        _stream = stream;
        Endpoint = endpoint;
        Timeout = timeout;
    }

    /// <summary>host:port, for messages.</summary>
    public string Endpoint { get; }

    /// <summary>How long one socket read or write may wait; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for no limit.</summary>
    public TimeSpan Timeout { get; set; }

    public bool IsSecure => _stream is SslStream;

    public SslStream? SslStream => _stream as SslStream;

    public bool IsBroken => _failure is not null || _disposed;

    /// <summary>Starts a new command: the next packet written carries sequence id 0.</summary>
    public void ResetSequence() => _sequence = 0;

    /// <summary>
    /// Reads one payload, joining continuation packets. The memory is valid until the next read:
    /// copy what must outlive it.
    /// </summary>
    public ValueTask<ReadOnlyMemory<byte>> ReadPayloadAsync(CancellationToken cancellationToken) =>
        TryReadBufferedPayload(AnyLeadByte, out var payload) ? new(payload) : ReadPayloadSlowAsync(cancellationToken);

    /// <summary>For <see cref="TryReadBufferedPayload"/>: a payload with any first byte, or an empty one.</summary>
    public const int AnyLeadByte = -1;

    /// <summary>
    /// Takes the next payload without waiting when its whole packet is already in the read buffer
    /// (and it is not the first of several joined packets) and its first byte is
    /// <paramref name="leadByte"/> (or <see cref="AnyLeadByte"/>): the payload is then a slice of
    /// the buffer, valid until the next read. False leaves the stream untouched.
    /// </summary>
    public bool TryReadBufferedPayload(int leadByte, out ReadOnlyMemory<byte> payload)
    {
        var available = _readEnd - _readStart;
        if (available >= 4 && _failure is null && !_disposed)
        {
            var buffer = _readBuffer;
            var start = _readStart;
            var length = buffer[start] | (buffer[start + 1] << 8) | (buffer[start + 2] << 16);
            // An out-of-step sequence id takes the slow path, which fails with the reason.
            if (length < MaxChunkLength && length <= available - 4 && buffer[start + 3] == _sequence
                && (leadByte == AnyLeadByte || (length > 0 && buffer[start + 4] == leadByte)))
            {
                _sequence++;
                _readStart = start + 4 + length;
                payload = buffer.AsMemory(start + 4, length);
                return true;
            }
        }

        payload = default;
        return false;
    }

    private async ValueTask<ReadOnlyMemory<byte>> ReadPayloadSlowAsync(CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        if (_payload.Length > RetainedPayloadCapacity)
        {
            // The last payload was a big one; a caller may still hold it, and it is not kept for reuse.
            _payload = new byte[4096];
        }

        var total = 0;
        while (true)
        {
            await FillAsync(4, cancellationToken).ConfigureAwait(false);
            var length = _readBuffer[_readStart] | (_readBuffer[_readStart + 1] << 8) | (_readBuffer[_readStart + 2] << 16);
            var sequence = _readBuffer[_readStart + 3];
            if (sequence != _sequence)
            {
                _readStart += 4;
                throw Fail($"the source {Endpoint} sent packet number {sequence} where number {_sequence} was expected: the protocol stream is out of step", null);
            }

            if (total == 0 && length < MaxChunkLength && length <= _readBuffer.Length - 4)
            {
                // A packet that fits the read buffer is read into it and handed out in place.
                await FillAsync(4 + length, cancellationToken).ConfigureAwait(false);
                _sequence++;
                _readStart += 4 + length;
                return _readBuffer.AsMemory(_readStart - length, length);
            }

            _readStart += 4;
            _sequence++;
            if ((long)total + length > MaxPayloadLength)
            {
                throw Fail($"the source {Endpoint} sent a packet larger than {MaxPayloadLength} bytes, which this client does not accept", null);
            }

            if (_payload.Length < total + length)
            {
                // Doubling keeps joining many 16 MB chunks linear.
                Array.Resize(ref _payload, Math.Max(total + length, (int)Math.Min(2L * _payload.Length, MaxPayloadLength)));
            }

            await ReadExactlyAsync(_payload.AsMemory(total, length), cancellationToken).ConfigureAwait(false);
            total += length;
            if (length < MaxChunkLength)
            {
                return _payload.AsMemory(0, total);
            }
        }
    }

    /// <summary>Writes one payload, split into 0xFFFFFF-byte packets when it is that long or longer.</summary>
    public async ValueTask WritePayloadAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        while (true)
        {
            var chunk = Math.Min(payload.Length, MaxChunkLength);
            _writeBuffer[0] = (byte)chunk;
            _writeBuffer[1] = (byte)(chunk >> 8);
            _writeBuffer[2] = (byte)(chunk >> 16);
            _writeBuffer[3] = _sequence++;
            if (chunk <= _writeBuffer.Length - 4)
            {
                payload.Span[..chunk].CopyTo(_writeBuffer.AsSpan(4));
                await WriteToStreamAsync(_writeBuffer.AsMemory(0, 4 + chunk), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await WriteToStreamAsync(_writeBuffer.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
                await WriteToStreamAsync(payload[..chunk], cancellationToken).ConfigureAwait(false);
            }

            payload = payload[chunk..];
            if (chunk < MaxChunkLength)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Runs the TLS handshake over the current stream (after the SSL request packet) and continues
    /// over TLS. Certificate failures surface as <see cref="System.Security.Authentication.AuthenticationException"/>
    /// for the caller to explain; network failures as <see cref="BinlogConnectionException"/>.
    /// </summary>
    public async Task UpgradeToTlsAsync(SslClientAuthenticationOptions options, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        if (_readEnd != _readStart)
        {
            throw Fail($"the source {Endpoint} sent data before the TLS handshake: the protocol stream is out of step", null);
        }

        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        var token = Arm(cancellationToken, out var linked);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, token).ConfigureAwait(false);
            _stream = ssl;
        }
        catch (System.Security.Authentication.AuthenticationException e)
        {
            _failure ??= new BinlogConnectionException($"the TLS handshake with {Endpoint} failed", e);
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception e) when (e is not BinlogException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw Translate(e, cancellationToken, "during the TLS handshake");
        }
        finally
        {
            linked?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Closing a connection that already failed; nothing left to release.
        }

        _timer?.Dispose();
    }

    private async ValueTask FillAsync(int minimum, CancellationToken cancellationToken)
    {
        if (_readEnd - _readStart >= minimum)
        {
            return;
        }

        if (_readStart > 0)
        {
            Buffer.BlockCopy(_readBuffer, _readStart, _readBuffer, 0, _readEnd - _readStart);
            _readEnd -= _readStart;
            _readStart = 0;
        }

        while (_readEnd < minimum)
        {
            _readEnd += await ReadFromStreamAsync(_readBuffer.AsMemory(_readEnd), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var buffered = Math.Min(_readEnd - _readStart, destination.Length);
        _readBuffer.AsSpan(_readStart, buffered).CopyTo(destination.Span);
        _readStart += buffered;
        destination = destination[buffered..];
        while (destination.Length > 0)
        {
            if (destination.Length >= _readBuffer.Length)
            {
                // Large payloads go straight from the socket into the payload buffer.
                var read = await ReadFromStreamAsync(destination, cancellationToken).ConfigureAwait(false);
                destination = destination[read..];
            }
            else
            {
                await FillAsync(1, cancellationToken).ConfigureAwait(false);
                var take = Math.Min(_readEnd - _readStart, destination.Length);
                _readBuffer.AsSpan(_readStart, take).CopyTo(destination.Span);
                _readStart += take;
                destination = destination[take..];
            }
        }
    }

    private async ValueTask<int> ReadFromStreamAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var token = Arm(cancellationToken, out var linked);
        int read;
        try
        {
            read = await _stream.ReadAsync(buffer, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not BinlogException)
        {
            throw Translate(e, cancellationToken, "while reading");
        }
        finally
        {
            linked?.Dispose();
        }

        if (read == 0)
        {
            throw _disposed
                ? Fail($"the connection to {Endpoint} was closed by this client", null)
                : Fail($"the source {Endpoint} closed the connection (it may have been restarted or killed, or it dropped this client: check its error log)", null);
        }

        return read;
    }

    private async ValueTask WriteToStreamAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        var token = Arm(cancellationToken, out var linked);
        try
        {
            await _stream.WriteAsync(buffer, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not BinlogException)
        {
            throw Translate(e, cancellationToken, "while writing");
        }
        finally
        {
            linked?.Dispose();
        }
    }

    private CancellationToken Arm(CancellationToken cancellationToken, out CancellationTokenSource? linked)
    {
        if (_timer is null || !_timer.TryReset())
        {
            _timer?.Dispose();
            _timer = new CancellationTokenSource();
        }

        if (Timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            _timer.CancelAfter(Timeout);
        }

        linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token)
            : null;
        return linked?.Token ?? _timer.Token;
    }

    private Exception Translate(Exception e, CancellationToken cancellationToken, string doing)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            _failure ??= new OperationCanceledException("the operation was cancelled", e, cancellationToken);
            return e as OperationCanceledException ?? new OperationCanceledException("the operation was cancelled", e, cancellationToken);
        }

        if (_disposed || e is ObjectDisposedException)
        {
            return Fail($"the connection to {Endpoint} was closed by this client", e);
        }

        if (_timer?.IsCancellationRequested == true && e is OperationCanceledException or IOException or SocketException)
        {
            var seconds = Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            return doing == "while writing"
                ? Fail($"could not send to {Endpoint} for {seconds}s: the connection is dead or half-open", e)
                : Fail($"no data from {Endpoint} for {seconds}s: the connection is dead or half-open", e);
        }

        var reason = (e as SocketException ?? e.InnerException as SocketException) is { } socket
            ? $"{socket.Message} ({socket.SocketErrorCode})"
            : e.Message;
        return Fail($"lost the connection to {Endpoint} {doing}: {reason}; the source may have been restarted or killed, or the network dropped the connection", e);
    }

    private BinlogConnectionException Fail(string message, Exception? inner)
    {
        var exception = new BinlogConnectionException(message, inner);
        _failure ??= exception;
        return exception;
    }

    private void ThrowIfUnusable()
    {
        if (_disposed)
        {
            throw new BinlogConnectionException($"the connection to {Endpoint} was closed by this client");
        }

        if (_failure is not null)
        {
            throw new BinlogConnectionException($"the connection to {Endpoint} can no longer be used after an earlier failure: {_failure.Message}", _failure);
        }
    }
}
