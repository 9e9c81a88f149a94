using System.Net;
using System.Net.Sockets;
using System.Text;
using Replicator.Host.Admin;

namespace Replicator.IntegrationTests;

/// <summary>
/// The admin endpoint's own HTTP server. It starts while something already polls its port (a health
/// check, the fault suite's monitors): the managed HttpListener it replaces threw from Start on Linux
/// when a client connected then (dotnet/corefx#35191), and a node crashed on it. It must also survive
/// clients that send garbage, too much, or nothing at all, and release its port when disposed.
/// </summary>
public sealed class AdminListenerTests
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task The_admin_listener_starts_and_serves_while_clients_keep_connecting_to_its_port()
    {
        for (var round = 0; round < 40; round++)
        {
            var port = FreePort();
            using var stop = new CancellationTokenSource();
            var hammer = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var client = new TcpClient();
                        client.Connect(IPAddress.Loopback, port);
                    }
                    catch (SocketException)
                    {
                    }
                }
            });
            await Task.Delay(20);

            using var listener = AdminListener.Start(new IPEndPoint(IPAddress.Loopback, port), NoContent);
            await Task.Delay(20);
            await stop.CancelAsync();
            await hammer;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/status");
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
    }

    [Fact]
    public async Task The_handler_gets_the_method_and_path_and_its_answer_reaches_the_client()
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, r => Task.FromResult(new AdminListener.Response(200, "application/json", $"\"{r.Method} {r.Path}\"")));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        using var get = await http.GetAsync($"{Url(listener)}/dead-letters/cache/?x=1");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("application/json", get.Content.Headers.ContentType?.ToString());
        Assert.Equal("\"GET /dead-letters/cache/\"", await get.Content.ReadAsStringAsync());

        using var post = await http.PostAsync($"{Url(listener)}/dead-letters/cache/retry", new StringContent("ignored"));
        Assert.Equal("\"POST /dead-letters/cache/retry\"", await post.Content.ReadAsStringAsync());

        using var empty = await http.PostAsync($"{Url(listener)}/dead-letters/cache/purge", content: null);
        Assert.Equal("\"POST /dead-letters/cache/purge\"", await empty.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_failing_handler_answers_500_and_the_listener_keeps_serving()
    {
        var calls = 0;
        using var listener = AdminListener.Start(AnyLoopbackPort, _ => Interlocked.Increment(ref calls) == 1
            ? throw new InvalidOperationException("boom")
            : Task.FromResult(new AdminListener.Response(200, "text/plain", "fine\n")));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        using var failed = await http.GetAsync($"{Url(listener)}/status");
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("InvalidOperationException: boom\n", await failed.Content.ReadAsStringAsync());
        Assert.Equal("fine\n", await http.GetStringAsync($"{Url(listener)}/status"));
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n")]
    [InlineData("GET /status\r\n\r\n")]
    [InlineData("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n")]
    [InlineData("GET /status HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n")]
    [InlineData("GET /status HTTP/1.1\r\n\r\n")]
    [InlineData("GET /status HTTP/1.1\r\nHost: evil.example\r\n\r\n")]
    [InlineData("POST /status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("POST /status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")]
    [InlineData("GET status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")]
    public async Task A_malformed_request_gets_400_and_the_listener_keeps_serving(string request)
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, Ok);

        Assert.StartsWith("HTTP/1.1 400 ", await ExchangeAsync(listener, request));
        Assert.Equal("ok\n", await GetAsync(listener));
    }

    [Fact]
    public async Task A_well_formed_raw_request_is_answered_and_closed()
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, Ok);

        var response = await ExchangeAsync(listener, "\r\nPOST /status HTTP/1.1\nHost: localhost\nContent-Length: 5\n\nhello");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response);
        Assert.Contains("\r\nContent-Length: 3\r\n", response);
        Assert.Contains("\r\nConnection: close\r\n", response);
        Assert.EndsWith("\r\n\r\nok\n", response);
    }

    [Fact]
    public async Task A_chunked_body_is_refused_with_411()
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, Ok);

        var response = await ExchangeAsync(listener, "POST /status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 411 ", response);
        Assert.Equal("ok\n", await GetAsync(listener));
    }

    [Fact]
    public async Task An_oversized_header_gets_431_and_the_listener_keeps_serving()
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, Ok);
        var request = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + new string('a', 4 * AdminListener.MaxHeaderBytes) + "\r\n\r\n";

        Assert.StartsWith("HTTP/1.1 431 ", await ExchangeAsync(listener, request));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var big = new HttpRequestMessage(HttpMethod.Get, $"{Url(listener)}/status");
        big.Headers.Add("X-Big", new string('b', AdminListener.MaxHeaderBytes));
        using var response = await http.SendAsync(big);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Equal("ok\n", await GetAsync(listener));
    }

    [Fact]
    public async Task An_oversized_body_gets_413()
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, Ok);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        using var response = await http.PostAsync($"{Url(listener)}/status", new ByteArrayContent(new byte[AdminListener.MaxBodyBytes + 1]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Clients_that_connect_and_send_nothing_do_not_block_other_requests()
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, Ok);
        var silent = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                var client = new TcpClient();
                silent.Add(client);
                await client.ConnectAsync(listener.Endpoint);
            }

            using var half = new TcpClient();
            await half.ConnectAsync(listener.Endpoint);
            await half.GetStream().WriteAsync("GET /status HTTP/1.1\r\nHo"u8.ToArray());

            var started = DateTime.UtcNow;
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal("ok\n", await GetAsync(listener));
            }

            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "requests waited for the silent clients");
        }
        finally
        {
            silent.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_client_that_sends_nothing_is_disconnected_after_the_request_timeout()
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, Ok, requestTimeout: TimeSpan.FromMilliseconds(300));
        using var silent = new TcpClient();
        await silent.ConnectAsync(listener.Endpoint);
        using var slow = new TcpClient();
        await slow.ConnectAsync(listener.Endpoint);
        await slow.GetStream().WriteAsync("GET /status HTTP/1.1\r\n"u8.ToArray());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal("", await ReadToEndAsync(silent.GetStream(), timeout.Token));
        Assert.StartsWith("HTTP/1.1 408 ", await ReadToEndAsync(slow.GetStream(), timeout.Token));
    }

    [Fact]
    public async Task More_silent_clients_than_the_listener_serves_at_once_only_delay_a_request_by_the_request_timeout()
    {
        using var listener = AdminListener.Start(AnyLoopbackPort, Ok, requestTimeout: TimeSpan.FromMilliseconds(500));
        var silent = new List<TcpClient>();
        try
        {
            for (var i = 0; i < AdminListener.MaxConnections + 10; i++)
            {
                var client = new TcpClient();
                silent.Add(client);
                await client.ConnectAsync(listener.Endpoint);
            }

            Assert.Equal("ok\n", await GetAsync(listener));
        }
        finally
        {
            silent.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Dispose_closes_open_connections_and_the_port_refuses_afterwards()
    {
        var listener = AdminListener.Start(AnyLoopbackPort, Ok);
        var endpoint = listener.Endpoint;
        Assert.Equal("ok\n", await GetAsync(listener));
        using var idle = new TcpClient();
        await idle.ConnectAsync(endpoint);
        await Task.Delay(100);

        listener.Dispose();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            Assert.Equal(0, await idle.GetStream().ReadAsync(new byte[16], timeout.Token));
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
        }

        using var late = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(endpoint));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public void Starting_on_a_port_in_use_throws_address_already_in_use()
    {
        using var first = AdminListener.Start(AnyLoopbackPort, Ok);

        var e = Assert.Throws<SocketException>(() => AdminListener.Start(first.Endpoint, Ok));

        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }

    private static Task<AdminListener.Response> NoContent(AdminListener.Request request) => Task.FromResult(new AdminListener.Response(204, null, ""));

    private static Task<AdminListener.Response> Ok(AdminListener.Request request) => Task.FromResult(new AdminListener.Response(200, "text/plain", "ok\n"));

    private static string Url(AdminListener listener) => $"http://127.0.0.1:{listener.Endpoint.Port}";

    private static async Task<string> GetAsync(AdminListener listener)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync($"{Url(listener)}/status");
    }

    /// <summary>Sends <paramref name="request"/> as it is over a new connection and returns all the server answers until it closes.</summary>
    private static async Task<string> ExchangeAsync(AdminListener listener, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(listener.Endpoint);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), timeout.Token);
        return await ReadToEndAsync(stream, timeout.Token);
    }

    private static async Task<string> ReadToEndAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, cancellationToken);
        return Encoding.UTF8.GetString(received.ToArray());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
