using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Network;

/// <summary>
/// One authenticated client/server protocol connection to a MySQL or MariaDB source: TCP, the
/// optional TLS upgrade, the login, text queries and, once, a binlog dump. Used by
/// <see cref="BinlogClient"/> and usable on its own for the checks a reader makes before it
/// starts (<c>SHOW MASTER STATUS</c>, <c>SELECT @@binlog_format</c>, …).
/// <para>
/// One operation at a time; <see cref="DisposeAsync"/> may be called from another thread to abort a
/// pending read. After any failure (connection loss, timeout, cancellation) the connection is
/// unusable and only disposing it is left.
/// </para>
/// </summary>
public sealed partial class BinlogConnection : IAsyncDisposable
{
    /// <summary>utf8mb4_general_ci, known to every MySQL and MariaDB server with utf8mb4.</summary>
    private const byte Utf8Mb4GeneralCi = 45;

    /// <summary>The max_packet_size this client announces: the servers' 1 GB ceiling.</summary>
    private const uint MaxPacketSize = 1 << 30;

    private readonly PacketChannel _channel;
    private readonly CapabilityFlags _capabilities;
    private int _state;

    private BinlogConnection(BinlogClientOptions options, PacketChannel channel, ServerInfo server, CapabilityFlags capabilities, string authenticationPlugin)
    {
        Options = options;
        _channel = channel;
        Server = server;
        _capabilities = capabilities;
        AuthenticationPlugin = authenticationPlugin;
    }

    private enum State
    {
        Idle = 0,
        Busy = 1,
        Dumping = 2,
        Disposed = 3,
    }

    public BinlogClientOptions Options { get; }

    /// <summary>What the server said of itself at the handshake.</summary>
    public ServerInfo Server { get; }

    /// <summary>True when the connection runs over TLS.</summary>
    public bool IsSecure => _channel.IsSecure;

    /// <summary>The TLS protocol in use (e.g. Tls13), or null without TLS.</summary>
    public System.Security.Authentication.SslProtocols? TlsProtocol => _channel.SslStream?.SslProtocol;

    /// <summary>The authentication plugin that completed the login.</summary>
    public string AuthenticationPlugin { get; }

    /// <summary>host:port of the source.</summary>
    public string Endpoint => Options.Endpoint;

    internal bool DeprecateEof => _capabilities.HasFlag(CapabilityFlags.DeprecateEof);

    internal PacketChannel Channel => _channel;

    /// <summary>
    /// Connects, upgrades to TLS as <see cref="BinlogClientOptions.SslMode"/> asks, and logs in.
    /// The whole of it is bounded by <see cref="BinlogClientOptions.ConnectTimeout"/>.
    /// </summary>
    /// <exception cref="BinlogConnectionException">The host cannot be resolved or reached, or the connection failed or timed out.</exception>
    /// <exception cref="BinlogAuthenticationException">The server refused the user name or password, or the login method cannot be used.</exception>
    /// <exception cref="BinlogConfigurationException">The options are invalid, or TLS cannot be used as asked.</exception>
    /// <exception cref="BinlogServerException">The server refused the connection for another reason (too many connections, host blocked, …).</exception>
    public static async ValueTask<BinlogConnection> OpenAsync(BinlogClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var deadline = new CancellationTokenSource();
        if (options.ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(options.ConnectTimeout);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var token = linked.Token;
        var phase = "TCP connect";
        PacketChannel? channel = null;
        try
        {
            var socket = await ConnectSocketAsync(options, token).ConfigureAwait(false);
            channel = new PacketChannel(new NetworkStream(socket, ownsSocket: true), options.Endpoint, options.ReadTimeout);
            phase = "login";
            var connection = await LogInAsync(channel, options, token).ConfigureAwait(false);
            return connection;
        }
        catch (Exception e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                                  && e is OperationCanceledException or BinlogConnectionException)
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }

            var seconds = options.ConnectTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            throw new BinlogConnectionException(phase == "TCP connect"
                ? $"cannot connect to the source {options.Endpoint}: no answer within {seconds}s (Connection Timeout); check the host and port, and for a firewall that drops packets"
                : $"connected to {options.Endpoint} but the {phase} did not finish within {seconds}s (Connection Timeout); check that this is a MySQL or MariaDB server and that it is not overloaded", e);
        }
        catch
        {
            if (channel is not null)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Closes the connection; a connection that is idle says goodbye (COM_QUIT) first.</summary>
    public async ValueTask DisposeAsync()
    {
        var previous = (State)Interlocked.Exchange(ref _state, (int)State.Disposed);
        if (previous == State.Disposed)
        {
            return;
        }

        if (previous == State.Idle && !_channel.IsBroken)
        {
            try
            {
                _channel.ResetSequence();
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _channel.WritePayloadAsync(new[] { (byte)CommandCode.Quit }, quick.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BinlogException or OperationCanceledException)
            {
                // The server will notice the closed socket instead.
            }
        }

        await _channel.DisposeAsync().ConfigureAwait(false);
    }

    public override string ToString() => $"{Options.User}@{Endpoint} ({Server.Version}, connection {Server.ConnectionId})";

    private static async Task<Socket> ConnectSocketAsync(BinlogClientOptions options, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(options.Host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(options.Host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new BinlogConnectionException(
                    $"cannot resolve the source host name '{options.Host}': {e.Message} ({e.SocketErrorCode}); check the Server setting and DNS", e);
            }

            if (addresses.Length == 0)
            {
                throw new BinlogConnectionException($"cannot resolve the source host name '{options.Host}': it has no address; check the Server setting and DNS");
            }
        }

        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, options.Port), cancellationToken).ConfigureAwait(false);
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        var tried = addresses.Length == 1 || literal is not null ? "" : $" (tried {string.Join(", ", addresses.Select(a => a.ToString()))})";
        throw new BinlogConnectionException(
            $"cannot connect to the source {options.Endpoint}{tried}: {last!.Message} ({last.SocketErrorCode}); check that the server is running and listens on this host and port (port, bind-address, skip-networking) and that no firewall blocks it",
            last);
    }

    private void Enter()
    {
        var previous = (State)Interlocked.CompareExchange(ref _state, (int)State.Busy, (int)State.Idle);
        switch (previous)
        {
            case State.Idle:
                return;
            case State.Busy:
                throw new InvalidOperationException($"the connection to {Endpoint} is already running an operation; it serves one at a time");
            case State.Dumping:
                throw new InvalidOperationException($"the connection to {Endpoint} is streaming the binlog and takes no other command; open another connection");
            default:
                throw new ObjectDisposedException(nameof(BinlogConnection), $"the connection to {Endpoint} is closed");
        }
    }

    private void Leave(State next = State.Idle) =>
        Interlocked.CompareExchange(ref _state, (int)next, (int)State.Busy);
}
