using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Replicator.Host.Admin;

namespace Replicator.IntegrationTests;

/// <summary>
/// The admin endpoint's HTTP server (Kestrel) over a fake backend: routes and JSON, who may call
/// what, what a failure answers, and how it copes with idle, malformed and too-large requests.
/// </summary>
public sealed class AdminServerTests
{
    private const string Token = "the-admin-token-0123456789abcdef";
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task Status_metrics_and_dead_letters_answer_the_same_json_as_before()
    {
        var backend = new FakeBackend();
        await using var server = await AdminServer.StartAsync(backend, AnyLoopbackPort, AdminToken.Of(Token), new CapturingLogs());
        using var http = Client();

        var status = await http.GetStringAsync($"{Url(server)}/status");
        Assert.Contains("\"name\": \"shop\"", status);
        Assert.Contains("\"current_offset\": \"mariadb-bin.000002:1234\"", status);
        Assert.Contains("\"persisted_offset\": \"mariadb-bin.000002:1000\"", status);
        Assert.Contains("\"stale_refused\": 3", status);
        Assert.Contains("\"state\": \"unreachable\"", status);
        Assert.DoesNotContain("last_error", status);
        Assert.Contains("\"offset_server\": {", status);
        Assert.Contains("\"server_id\": 7", status);
        Assert.Contains("\"endpoint\": \"db1:3306\"", status);

        using var metrics = await http.GetAsync($"{Url(server)}/metrics");
        Assert.StartsWith("text/plain; version=0.0.4", metrics.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        Assert.Matches("(?m)^replicator_changes_applied_total\\{[^}]*definition=\"cache\"[^}]*\\} 7$", await metrics.Content.ReadAsStringAsync());

        var letters = await http.GetStringAsync($"{Url(server)}/dead-letters/cache");
        Assert.Contains("\"pk\": \"13\"", letters);
        Assert.Contains("\"first_failure\": \"2024-01-02T03:04:05", letters);
        Assert.Contains("\"total\": 1", letters);
        Assert.Contains("\"next\": null", letters);

        using var missing = await http.GetAsync($"{Url(server)}/dead-letters/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("no definition named nope\n", await missing.Content.ReadAsStringAsync());

        using var retry = await http.SendAsync(Post($"{Url(server)}/dead-letters/cache/retry", Token));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Contains("\"retrying\": 1", await retry.Content.ReadAsStringAsync());
        Assert.Equal(["retry cache"], backend.Mutations);
    }

    [Fact]
    public async Task A_dead_letter_listing_passes_offset_and_limit_on_and_refuses_bad_ones_naming_the_bounds()
    {
        var backend = new FakeBackend();
        await using var server = await AdminServer.StartAsync(backend, AnyLoopbackPort, AdminToken.Of(Token), new CapturingLogs());
        using var http = Client();

        await http.GetStringAsync($"{Url(server)}/dead-letters/cache");
        await http.GetStringAsync($"{Url(server)}/dead-letters/cache?offset=200&limit=50");
        Assert.Equal(["cache 0 100", "cache 200 50"], backend.Listed);

        foreach (var (query, expected) in new[] { ("limit=0", "from 1 to 1000"), ("limit=1001", "from 1 to 1000"), ("offset=-1", "offset '-1'"), ("offset=x", "offset 'x'"), ("limit=10&limit=20", "limit '10,20'") })
        {
            using var refused = await http.GetAsync($"{Url(server)}/dead-letters/cache?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains(expected, await refused.Content.ReadAsStringAsync());
        }

        Assert.Equal(2, backend.Listed.Count);
    }

    [Fact]
    public async Task Purge_without_the_token_is_refused_with_401_and_purges_nothing()
    {
        var backend = new FakeBackend();
        await using var server = await AdminServer.StartAsync(backend, AnyLoopbackPort, AdminToken.Of(Token), new CapturingLogs());
        using var http = Client();

        using var anonymous = await http.PostAsync($"{Url(server)}/dead-letters/cache/purge", content: null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.ToString());
        using var wrong = await http.SendAsync(Post($"{Url(server)}/dead-letters/cache/purge", Token + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var basic = new HttpRequestMessage(HttpMethod.Post, $"{Url(server)}/dead-letters/cache/purge");
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + Token)));
        using var basicResponse = await http.SendAsync(basic);
        Assert.Equal(HttpStatusCode.Unauthorized, basicResponse.StatusCode);
        Assert.Empty(backend.Mutations);

        using var allowed = await http.SendAsync(Post($"{Url(server)}/dead-letters/cache/purge", Token));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Contains("\"purged\": 1", await allowed.Content.ReadAsStringAsync());
        Assert.Equal(["purge cache"], backend.Mutations);
    }

    [Fact]
    public async Task Without_a_configured_token_nothing_can_be_mutated_but_status_is_served_on_loopback()
    {
        var backend = new FakeBackend();
        await using var server = await AdminServer.StartAsync(backend, AnyLoopbackPort, token: null, new CapturingLogs());
        using var http = Client();

        using var purge = await http.SendAsync(Post($"{Url(server)}/dead-letters/cache/purge", Token));
        Assert.Equal(HttpStatusCode.Unauthorized, purge.StatusCode);
        Assert.Contains(AdminToken.EnvironmentVariable, await purge.Content.ReadAsStringAsync());
        Assert.Empty(backend.Mutations);
        Assert.Contains("\"sources\"", await http.GetStringAsync($"{Url(server)}/status"));
    }

    [Theory]
    [InlineData("Origin", "http://evil.example")]
    [InlineData("Origin", "null")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    public async Task A_mutating_call_from_another_origin_is_refused_even_with_the_token(string header, string value)
    {
        var backend = new FakeBackend();
        await using var server = await AdminServer.StartAsync(backend, AnyLoopbackPort, AdminToken.Of(Token), new CapturingLogs());
        using var http = Client();

        using var foreign = Post($"{Url(server)}/dead-letters/cache/purge", Token);
        foreign.Headers.Add(header, value);
        using var response = await http.SendAsync(foreign);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(backend.Mutations);

        using var own = Post($"{Url(server)}/dead-letters/cache/retry", Token);
        own.Headers.Add("Origin", Url(server));
        using var ownResponse = await http.SendAsync(own);
        Assert.Equal(HttpStatusCode.OK, ownResponse.StatusCode);
    }

    [Fact]
    public async Task Off_loopback_the_endpoint_refuses_to_start_without_a_token_and_with_one_wants_it_on_every_call()
    {
        var refused = await Assert.ThrowsAsync<AdminEndpointException>(() => AdminServer.StartAsync(new FakeBackend(), new IPEndPoint(IPAddress.Any, 0), token: null, new CapturingLogs()));
        Assert.Contains(AdminToken.EnvironmentVariable, refused.Message);
        Assert.Contains("127.0.0.1", refused.Message);

        await using var server = await AdminServer.StartAsync(new FakeBackend(), new IPEndPoint(IPAddress.Any, 0), AdminToken.Of(Token), new CapturingLogs());
        using var http = Client();
        using var anonymous = await http.GetAsync($"{Url(server)}/status");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var metrics = await http.GetAsync($"{Url(server)}/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);

        using var authorized = new HttpRequestMessage(HttpMethod.Get, $"{Url(server)}/status");
        authorized.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await http.SendAsync(authorized);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_failing_call_answers_500_with_an_error_id_and_not_the_exception_text_which_goes_to_the_log()
    {
        var logs = new CapturingLogs();
        var backend = new FakeBackend { StatusFailure = new InvalidOperationException("Password=canary-in-the-exception") };
        await using var server = await AdminServer.StartAsync(backend, AnyLoopbackPort, AdminToken.Of(Token), logs);
        using var http = Client();

        using var failed = await http.GetAsync($"{Url(server)}/status");
        var body = await failed.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.DoesNotContain("canary", body);
        Assert.DoesNotContain("InvalidOperationException", body);
        var id = System.Text.RegularExpressions.Regex.Match(body, "internal error ([0-9a-f]{12})").Groups[1].Value;
        Assert.NotEmpty(id);
        Assert.Contains(logs.Lines, l => l.Contains(id, StringComparison.Ordinal) && l.Contains("canary-in-the-exception", StringComparison.Ordinal));

        backend.StatusFailure = null;
        Assert.Contains("\"sources\"", await http.GetStringAsync($"{Url(server)}/status"));
    }

    [Fact]
    public async Task Many_idle_connections_do_not_block_status()
    {
        await using var server = await AdminServer.StartAsync(new FakeBackend(), AnyLoopbackPort, AdminToken.Of(Token), new CapturingLogs());
        var idle = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var client = new TcpClient();
                idle.Add(client);
                await client.ConnectAsync(server.Endpoint);
            }

            using var half = new TcpClient();
            await half.ConnectAsync(server.Endpoint);
            await half.GetStream().WriteAsync("GET /status HTTP/1.1\r\nHo"u8.ToArray());

            using var http = Client();
            var started = DateTime.UtcNow;
            for (var i = 0; i < 5; i++)
            {
                Assert.Contains("\"sources\"", await http.GetStringAsync($"{Url(server)}/status"));
            }

            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), "requests waited for the idle clients");
        }
        finally
        {
            idle.ForEach(c => c.Dispose());
        }
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
    public async Task A_malformed_request_or_a_foreign_host_name_gets_400_and_the_server_keeps_serving(string request)
    {
        await using var server = await AdminServer.StartAsync(new FakeBackend(), AnyLoopbackPort, AdminToken.Of(Token), new CapturingLogs());

        Assert.StartsWith("HTTP/1.1 400 ", await StatusLineAsync(server, request));
        using var http = Client();
        Assert.Contains("\"sources\"", await http.GetStringAsync($"{Url(server)}/status"));
    }

    [Fact]
    public async Task Oversized_headers_get_431_and_an_oversized_body_413()
    {
        await using var server = await AdminServer.StartAsync(new FakeBackend(), AnyLoopbackPort, AdminToken.Of(Token), new CapturingLogs());
        using var http = Client();

        using var big = new HttpRequestMessage(HttpMethod.Get, $"{Url(server)}/status");
        big.Headers.Add("X-Big", new string('b', AdminServer.MaxHeaderBytes));
        using var headers = await http.SendAsync(big);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, headers.StatusCode);

        using var body = Post($"{Url(server)}/dead-letters/cache/retry", Token);
        body.Content = new ByteArrayContent(new byte[AdminServer.MaxBodyBytes + 1]);
        using var response = await http.SendAsync(body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task The_server_starts_and_serves_while_clients_keep_connecting_to_its_port()
    {
        for (var round = 0; round < 10; round++)
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

            await using var server = await AdminServer.StartAsync(new FakeBackend(), new IPEndPoint(IPAddress.Loopback, port), AdminToken.Of(Token), new CapturingLogs());
            await Task.Delay(20);
            await stop.CancelAsync();
            await hammer;
            using var http = Client();
            Assert.Contains("\"sources\"", await http.GetStringAsync($"http://127.0.0.1:{port}/status"));
        }
    }

    [Fact]
    public async Task Starting_on_a_port_in_use_says_so_and_dispose_releases_the_port()
    {
        var first = await AdminServer.StartAsync(new FakeBackend(), AnyLoopbackPort, AdminToken.Of(Token), new CapturingLogs());
        var endpoint = first.Endpoint;

        var e = await Assert.ThrowsAsync<AdminEndpointException>(() => AdminServer.StartAsync(new FakeBackend(), endpoint, AdminToken.Of(Token), new CapturingLogs()));
        Assert.Contains("already in use", e.Message);

        await first.DisposeAsync();
        using var late = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(endpoint));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("has a space in the middle of it")]
    public void A_weak_token_is_refused_at_start(string token)
    {
        var e = Assert.Throws<AdminEndpointException>(() => AdminToken.Resolve(null, name => name == AdminToken.EnvironmentVariable ? token : null));
        Assert.Contains(AdminToken.EnvironmentVariable, e.Message);
        Assert.DoesNotContain(token, e.Message);
    }

    [Fact]
    public void The_token_comes_from_the_file_first_then_the_environment()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, Token + "\n");
            var fromFile = AdminToken.Resolve(file, _ => "another-token-from-the-environment");
            Assert.True(fromFile!.Matches(Token));
            Assert.False(fromFile.Matches(Token + "\n"));

            var fromEnvironment = AdminToken.Resolve(null, name => name == AdminToken.EnvironmentVariable ? Token : null);
            Assert.True(fromEnvironment!.Matches(Token));
            Assert.Null(AdminToken.Resolve(null, _ => null));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static HttpClient Client() => new() { Timeout = TimeSpan.FromSeconds(10) };

    private static HttpRequestMessage Post(string url, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static string Url(AdminServer server) => $"http://127.0.0.1:{server.Endpoint.Port}";

    /// <summary>Sends <paramref name="request"/> as it is over a new connection and returns the status line of the answer.</summary>
    private static async Task<string> StatusLineAsync(AdminServer server, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.Endpoint.Port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), timeout.Token);
        var received = new StringBuilder();
        var buffer = new byte[1024];
        while (!received.ToString().Contains("\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            received.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }

        return received.ToString();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class FakeBackend : IAdminBackend
    {
        public ConcurrentQueue<string> MutationLog { get; } = new();

        public string[] Mutations => [.. MutationLog];

        public ConcurrentQueue<string> Listed { get; } = new();

        public Exception? StatusFailure { get; set; }

        public Task<StatusDto> StatusAsync() => StatusFailure is { } failure
            ? Task.FromException<StatusDto>(failure)
            : Task.FromResult(new StatusDto(
                [
                    new SourceStatusDto("shop", "reading", "mariadb-bin.000002:1000", "mariadb-bin.000002:1234", 10, 2, 0, null, "2024-01-02T03:04:05.0000000Z", new SourceServerDto(7, null, "db1:3306")),
                    new SourceStatusDto("other", "unreachable"),
                ],
                [new DefinitionStatusDto("cache", 9, 7, 1, 0, 3, 0, 1)]));

        public Meter Meter { get; } = FakeMeter();

        private static Meter FakeMeter()
        {
            var meter = new Meter(Engine.Replication.ReplicationMetrics.MeterName);
            meter.CreateObservableCounter("replicator_changes_applied", () => new Measurement<long>(7, new KeyValuePair<string, object?>("definition", "cache")));
            return meter;
        }

        public bool HasDefinition(string definition) => definition == "cache";

        public Task<DeadLetterPageDto> ListDeadLettersAsync(string definition, int offset, int limit)
        {
            Listed.Enqueue($"{definition} {offset} {limit}");
            var letters = offset == 0 ? new[] { new DeadLetterDto("shop", "t", "13", "update", "2:1000:0", "poisoned", 4, "2024-01-02T03:04:05.0000000Z", "2024-01-02T03:05:05.0000000Z") } : [];
            return Task.FromResult(new DeadLetterPageDto(1, offset, limit, null, letters));
        }

        public Task<int> RetryDeadLettersAsync(string definition)
        {
            MutationLog.Enqueue("retry " + definition);
            return Task.FromResult(1);
        }

        public Task<int> PurgeDeadLettersAsync(string definition)
        {
            MutationLog.Enqueue("purge " + definition);
            return Task.FromResult(1);
        }
    }

    /// <summary>Keeps every log line with its exception, for asserting what reached the log.</summary>
    private sealed class CapturingLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception) + " " + exception);
        }
    }
}
