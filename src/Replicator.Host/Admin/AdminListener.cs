using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Replicator.Host.Admin;

/// <summary>
/// The admin endpoint's HTTP/1.1 server, on a plain listening socket. It replaces
/// <see cref="HttpListener"/>, whose managed Linux implementation throws from <c>Start</c> when a client
/// connects while it starts (dotnet/corefx#35191) and leaves the bound socket orphaned; a health check
/// polling the port while a node starts crashed the node.
/// <para>
/// Each accepted connection is served by its own task: one request (request line and headers at most
/// <see cref="MaxHeaderBytes"/>, a body only with <c>Content-Length</c>, at most <see cref="MaxBodyBytes"/>,
/// read and dropped), one response with <c>Connection: close</c>, then the connection is closed. A client
/// gets <see cref="RequestTimeout"/> to send its request and as long again to take the response, so a
/// slow or silent client cannot hold a connection for long. At most <see cref="MaxConnections"/> are served
/// at once; further clients wait in the listen backlog until one ends. A failure in one connection only
/// closes that connection. <see cref="Dispose"/> stops accepting (the port refuses connections once it
/// returns) and closes every open connection.
/// </para>
/// </summary>
internal sealed class AdminListener : IDisposable
{
    public const int MaxHeaderBytes = 8 * 1024;
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxConnections = 64;
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a closing connection waits for the client to close its side (see <see cref="CloseGracefullyAsync"/>).</summary>
    private static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(1);

    private readonly Socket _socket;
    private readonly Func<Request, Task<Response>> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopping;
    private readonly SemaphoreSlim _slots = new(MaxConnections);
    private readonly Dictionary<Socket, bool> _connections = new();
    private readonly Task _acceptLoop;
    private int _disposed;

    /// <summary>A request: its method as sent and the path of its target, %-escapes kept (as <see cref="Uri.AbsolutePath"/> gives it).</summary>
    public sealed record Request(string Method, string Path);

    /// <summary>A response; <paramref name="ContentType"/> null sends no <c>Content-Type</c>.</summary>
    public sealed record Response(int Status, string? ContentType, string Body);

    private AdminListener(Socket socket, Func<Request, Task<Response>> handler, TimeSpan requestTimeout)
    {
        _socket = socket;
        _handler = handler;
        _stopping = _stop.Token;
        RequestTimeout = requestTimeout;
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The address and port the listener is bound to (the port is the real one when port 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }

    public TimeSpan RequestTimeout { get; }

    /// <summary>
    /// Binds <paramref name="endpoint"/> exactly (that address only) and starts accepting. Throws a
    /// <see cref="SocketException"/> when the address cannot be bound, e.g. <see cref="SocketError.AddressAlreadyInUse"/>.
    /// </summary>
    public static AdminListener Start(IPEndPoint endpoint, Func<Request, Task<Response>> handler, TimeSpan? requestTimeout = null)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(128);
            return new AdminListener(socket, handler, requestTimeout ?? DefaultRequestTimeout);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await _slots.WaitAsync(_stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stopping).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                _slots.Release();

                // A connection reset before it was accepted, or out of file descriptors: keep accepting, a little later.
                try
                {
                    await Task.Delay(50, _stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    /// <summary>Serves one connection. It never throws: whatever goes wrong closes this connection only.</summary>
    private async Task ServeAsync(Socket client)
    {
        lock (_connections)
        {
            _connections[client] = true;
        }

        try
        {
            // Dispose may have closed the open connections just before this one was registered.
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            client.NoDelay = true;
            var (request, rejection) = await ReceiveAsync(client).ConfigureAwait(false);
            if (request is not null)
            {
                await SendAsync(client, request.Method, await HandleAsync(request).ConfigureAwait(false)).ConfigureAwait(false);
            }
            else if (rejection is not null)
            {
                await SendAsync(client, "GET", rejection).ConfigureAwait(false);
            }

            await CloseGracefullyAsync(client).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The client went away or was too slow, or the listener stopped: there is no one to answer.
        }
        finally
        {
            lock (_connections)
            {
                _connections.Remove(client);
            }

            client.Dispose();
            _slots.Release();
        }
    }

    private async Task<Response> HandleAsync(Request request)
    {
        try
        {
            return await _handler(request).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return new Response(500, null, e.GetType().Name + ": " + e.Message + "\n");
        }
    }

    /// <summary>
    /// Reads one request and its body. Returns the request, or a response that rejects it, or neither
    /// when the client closed or timed out before sending anything.
    /// </summary>
    private async Task<(Request? Request, Response? Rejection)> ReceiveAsync(Socket client)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        deadline.CancelAfter(RequestTimeout);
        var buffer = new byte[MaxHeaderBytes];
        var filled = 0;
        try
        {
            int headLength;
            while ((headLength = HeadLength(buffer.AsSpan(0, filled))) < 0)
            {
                if (filled == buffer.Length)
                {
                    return (null, Reject(431, $"the request line and headers exceed {MaxHeaderBytes} bytes"));
                }

                var read = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return (null, filled == 0 ? null : Reject(400, "the request ended inside its headers"));
                }

                filled += read;
            }

            var head = ParseHead(buffer.AsSpan(0, headLength));
            if (head.Rejection is not null)
            {
                return (null, head.Rejection);
            }

            // Read and drop the body: closing a socket with unread bytes resets the connection, and the client may lose the response.
            var unread = head.ContentLength - (filled - headLength);
            while (unread > 0)
            {
                var read = await client.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, unread)), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return (null, Reject(400, "the request ended inside its body"));
                }

                unread -= read;
            }

            return (head.Request, null);
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            return (null, filled == 0 ? null : Reject(408, $"the request was not received within {RequestTimeout.TotalSeconds:0.#} s"));
        }
    }

    /// <summary>The length of the request line and headers up to and with the empty line that ends them, or -1 when that line is not there yet.</summary>
    private static int HeadLength(ReadOnlySpan<byte> received)
    {
        // A server should ignore empty lines before the request line (RFC 9112, 2.2).
        var start = 0;
        while (start < received.Length && received[start] is (byte)'\r' or (byte)'\n')
        {
            start++;
        }

        for (var i = start; i < received.Length; i++)
        {
            if (received[i] != '\n')
            {
                continue;
            }

            if (i + 1 < received.Length && received[i + 1] == '\n')
            {
                return i + 2;
            }

            if (i + 2 < received.Length && received[i + 1] == '\r' && received[i + 2] == '\n')
            {
                return i + 3;
            }
        }

        return -1;
    }

    private readonly record struct Head(Request? Request, long ContentLength, Response? Rejection);

    /// <summary>Parses the request line and headers (RFC 9112, 3 and 5); lines end with CRLF or a bare LF.</summary>
    private static Head ParseHead(ReadOnlySpan<byte> bytes)
    {
        var lines = Encoding.Latin1.GetString(bytes).TrimStart('\r', '\n').Split('\n');
        var requestLine = lines[0].TrimEnd('\r').Split(' ');
        if (requestLine.Length != 3 || !IsToken(requestLine[0]) || requestLine[1].Length == 0)
        {
            return Rejected(400, "malformed request line");
        }

        var (method, target, version) = (requestLine[0], requestLine[1], requestLine[2]);
        if (version is not ("HTTP/1.1" or "HTTP/1.0"))
        {
            return version.Length == 8 && version.StartsWith("HTTP/", StringComparison.Ordinal) && char.IsAsciiDigit(version[5]) && version[6] == '.' && char.IsAsciiDigit(version[7])
                ? Rejected(505, $"{version} is not supported; use HTTP/1.1")
                : Rejected(400, "malformed request line");
        }

        string? host = null;
        string? contentLength = null;
        var hosts = 0;
        var chunked = false;
        foreach (var raw in lines.AsSpan(1))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return Rejected(400, "malformed header line");
            }

            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.Any(c => c is < ' ' and not '\t' or '\x7f'))
            {
                return Rejected(400, "a control character in a header value");
            }

            var name = line[..colon];
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                host = value;
                hosts++;
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (contentLength is not null && contentLength != value)
                {
                    return Rejected(400, "conflicting Content-Length headers");
                }

                contentLength = value;
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
            }
        }

        if (chunked)
        {
            return contentLength is null ? Rejected(411, "send the body with a Content-Length, not a Transfer-Encoding") : Rejected(400, "both Transfer-Encoding and Content-Length");
        }

        long length = 0;
        if (contentLength is not null)
        {
            if (contentLength.Length is 0 or > 18 || !contentLength.All(char.IsAsciiDigit))
            {
                return Rejected(400, "malformed Content-Length");
            }

            length = long.Parse(contentLength, CultureInfo.InvariantCulture);
        }

        if (length > MaxBodyBytes)
        {
            return Rejected(413, $"the body exceeds {MaxBodyBytes} bytes");
        }

        if (hosts > 1 || (hosts == 0 && version == "HTTP/1.1"))
        {
            return Rejected(400, "an HTTP/1.1 request needs exactly one Host header");
        }

        // Only an IP address or localhost: a web page cannot then reach the endpoint through a name it
        // rebinds to this address (DNS rebinding), as HttpListener did not let it (it only took the bound address).
        if (host is not null && !IsAddressOrLocalhost(host))
        {
            return Rejected(400, "the Host header must be an IP address or localhost");
        }

        // Origin form (/path?query) and absolute form (http://host/path); the path as HttpListener's Url.AbsolutePath gave it.
        var uri = target.Any(c => c is <= ' ' or >= '\x7f') ? null
            : target.StartsWith('/') ? (Uri.TryCreate("http://localhost" + target, UriKind.Absolute, out var origin) ? origin : null)
            : Uri.TryCreate(target, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https" ? absolute
            : null;
        if (uri is null)
        {
            return Rejected(400, "malformed request target");
        }

        return new Head(new Request(method, uri.AbsolutePath), length, null);

        static Head Rejected(int status, string message) => new(null, 0, Reject(status, message));
    }

    /// <summary>The host of a Host header value (with or without a port) is an IP address or localhost.</summary>
    private static bool IsAddressOrLocalhost(string host) =>
        Uri.TryCreate("http://" + host + "/", UriKind.Absolute, out var uri)
        && (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || uri.Host == "localhost")
        && uri.AbsolutePath == "/" && uri.UserInfo.Length == 0;

    private static Response Reject(int status, string message) => new(status, "text/plain", message + "\n");

    /// <summary>A token (RFC 9110, 5.6.2): a method or a header name.</summary>
    private static bool IsToken(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));

    private async Task SendAsync(Socket client, string method, Response response)
    {
        var body = Encoding.UTF8.GetBytes(response.Body);
        var bodiless = response.Status is < 200 or 204 or 304;
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {ReasonPhrase(response.Status)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:R}\r\n");
        if (response.ContentType is not null)
        {
            head.Append("Content-Type: ").Append(response.ContentType).Append("\r\n");
        }

        if (!bodiless)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        var bytes = Encoding.ASCII.GetBytes(head.ToString());
        if (!bodiless && method != "HEAD")
        {
            bytes = [.. bytes, .. body];
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        deadline.CancelAfter(RequestTimeout);
        for (var sent = 0; sent < bytes.Length;)
        {
            sent += await client.SendAsync(bytes.AsMemory(sent), SocketFlags.None, deadline.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Ends the connection after the response: sends FIN, then reads and drops what the client still
    /// sends (the rest of an oversized header, say) until it closes, for at most <see cref="LingerTimeout"/>.
    /// Closing with unread bytes would reset the connection, and the client could lose the response.
    /// </summary>
    private async Task CloseGracefullyAsync(Socket client)
    {
        client.Shutdown(SocketShutdown.Send);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        deadline.CancelAfter(LingerTimeout);
        var buffer = new byte[4096];
        try
        {
            while (await client.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    };

    /// <summary>Stops accepting (the port refuses connections once this returns) and closes every open connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        _socket.Dispose();
        Socket[] open;
        lock (_connections)
        {
            open = [.. _connections.Keys];
        }

        foreach (var connection in open)
        {
            connection.Dispose();
        }

        // The loop ends at once: its wait or accept was cancelled and the socket closed. _stop and _slots
        // are not disposed: a connection whose handler is still running will yet use them.
        _acceptLoop.Wait(TimeSpan.FromSeconds(5));
    }
}
