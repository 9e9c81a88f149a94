using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Replicator.Host.Logging;

namespace Replicator.Host.Admin;

/// <summary>
/// The node's admin endpoint: minimal-API endpoints on Kestrel.
/// <c>GET /status</c> (JSON: captures and definition counters), <c>GET /metrics</c> (Prometheus text),
/// <c>GET /dead-letters/&lt;definition&gt;?offset=&amp;limit=</c> (a page, see <see cref="DeadLetterPageDto"/>), <c>POST /dead-letters/&lt;definition&gt;/retry</c> (apply
/// them again) and <c>POST /dead-letters/&lt;definition&gt;/purge</c>. Who may call what is
/// <see cref="AdminAccess"/>: the token for every mutating call, and for every call off loopback.
/// A failing call answers 500 with an error id and logs the exception under that id; the response
/// never carries exception text. Kestrel serves connections concurrently, so idle or slow clients
/// hold nothing up; each has <see cref="RequestTimeout"/> to send its headers.
/// </summary>
internal sealed class AdminServer : IAsyncDisposable
{
    public const int MaxHeaderBytes = 8 * 1024;
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Connections served at once; more are refused until one ends (each idle one ends after <see cref="RequestTimeout"/>).</summary>
    public const int MaxConnections = 1024;

    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;

    private AdminServer(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    /// <summary>The address and port bound (the real port when port 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>
    /// Serves <paramref name="backend"/> on <paramref name="endpoint"/>. Throws an
    /// <see cref="AdminEndpointException"/> naming the fix when the endpoint is off loopback and there
    /// is no token, or when the address cannot be bound.
    /// </summary>
    public static async Task<AdminServer> StartAsync(IAdminBackend backend, IPEndPoint endpoint, AdminToken? token, ILoggerProvider? logs = null)
    {
        var loopback = IPAddress.IsLoopback(endpoint.Address);
        if (!loopback && token is null)
        {
            throw new AdminEndpointException(
                $"--admin {endpoint}: an admin endpoint off loopback needs a token. Set {AdminToken.EnvironmentVariable} or give --admin-token-file, or bind to 127.0.0.1.");
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "replicator-admin" });
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddFilter("Replicator", LogLevel.Information);
        }
        else
        {
            builder.Logging.AddNodeConsole(LogFormat.Text);
        }

        AddTo(builder, endpoint, () => backend.Meter);
        var app = builder.Build();
        MapOn(app, backend, endpoint, token);

        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (BindError(e, endpoint) is { } message)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new AdminEndpointException(message, e);
        }

        return new AdminServer(app, Announce(app, endpoint, token));
    }

    /// <summary>
    /// Puts the endpoint on <paramref name="builder"/>'s host: Kestrel on <paramref name="endpoint"/>
    /// with this server's limits, routing, and /metrics over the meter <paramref name="meter"/> returns
    /// (asked when its instruments appear, so the node may start after the host is built).
    /// </summary>
    internal static void AddTo(WebApplicationBuilder builder, IPEndPoint endpoint, Func<Meter?> meter)
    {
        builder.Services.AddRoutingCore();
        AddMetrics(builder.Services, meter);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = MaxHeaderBytes;
            kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
            kestrel.Limits.MaxConcurrentConnections = MaxConnections;
            kestrel.Limits.RequestHeadersTimeout = RequestTimeout;
            kestrel.Limits.KeepAliveTimeout = RequestTimeout;
            kestrel.Listen(endpoint);
        });
    }

    /// <summary>The access rules (<see cref="AdminAccess"/>) and the endpoints over <paramref name="backend"/>, on an app built by a builder given to <see cref="AddTo"/>.</summary>
    internal static void MapOn(WebApplication app, IAdminBackend backend, IPEndPoint endpoint, AdminToken? token)
    {
        var loopback = IPAddress.IsLoopback(endpoint.Address);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Replicator.Admin");
        app.Use((context, next) => GuardAsync(context, next, loopback, token, log));
        app.UseRouting();
        Map(app, backend);
    }

    /// <summary>Logs where the started endpoint listens and who may call it; returns the address bound (the real port when port 0 was asked for).</summary>
    internal static IPEndPoint Announce(WebApplication app, IPEndPoint endpoint, AdminToken? token)
    {
        var bound = new IPEndPoint(endpoint.Address, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port)
            .First());
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Replicator.Admin").LogInformation("Admin endpoint on http://{Endpoint} ({Access})", bound,
            token is null ? "read-only: no token, retry and purge refused" : IPAddress.IsLoopback(endpoint.Address) ? "token required for retry and purge" : "token required for every call");
        return bound;
    }

    /// <summary>Starts the endpoint of a running node.</summary>
    public static Task<AdminServer> StartAsync(Engine.ReplicatorNode node, IPEndPoint endpoint, AdminToken? token) =>
        StartAsync(new NodeAdminBackend(node), endpoint, token);

    /// <summary>
    /// /metrics: OpenTelemetry's Prometheus exporter over this node's Meter only (a process may run
    /// several nodes, as the tests do; each endpoint shows its own). Histograms keep the bucket
    /// boundaries their instruments advise.
    /// </summary>
    private static void AddMetrics(IServiceCollection services, Func<Meter?> meter) =>
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("replicator"))
            .WithMetrics(metrics => metrics
                .AddMeter(Engine.Replication.ReplicationMetrics.MeterName)
                .AddView(instrument => ReferenceEquals(instrument.Meter, meter()) ? null : MetricStreamConfiguration.Drop)
                .AddPrometheusExporter());

    private static void Map(WebApplication app, IAdminBackend backend)
    {
        var readOnly = new[] { "GET", "HEAD" };
        app.MapMethods("/status", readOnly, async () => Results.Json(await backend.StatusAsync().ConfigureAwait(false), AdminJsonContext.Default.StatusDto));
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapMethods("/dead-letters/{definition}", readOnly, async (string definition, HttpRequest request) =>
        {
            if (!backend.HasDefinition(definition))
            {
                return NoDefinition(definition);
            }

            var (offset, limit, error) = PageOf(request.Query);
            if (error is not null)
            {
                return Results.Text(error + "\n", "text/plain", statusCode: 400);
            }

            return Results.Json(await backend.ListDeadLettersAsync(definition, offset, limit).ConfigureAwait(false), AdminJsonContext.Default.DeadLetterPageDto);
        });
        app.MapPost("/dead-letters/{definition}/retry", async (string definition) =>
            !backend.HasDefinition(definition)
                ? NoDefinition(definition)
                : Results.Json(new RetryingDto(await backend.RetryDeadLettersAsync(definition).ConfigureAwait(false)), AdminJsonContext.Default.RetryingDto));
        app.MapPost("/dead-letters/{definition}/purge", async (string definition) =>
            !backend.HasDefinition(definition)
                ? NoDefinition(definition)
                : Results.Json(new PurgedDto(await backend.PurgeDeadLettersAsync(definition).ConfigureAwait(false)), AdminJsonContext.Default.PurgedDto));

        static IResult NoDefinition(string definition) => Results.Text($"no definition named {definition}\n", "text/plain", statusCode: 404);
    }

    /// <summary>
    /// The page a dead-letter listing asks for: <c>offset</c> (from 0, default 0) and <c>limit</c>
    /// (1 to <see cref="Engine.Replication.ListDeadLetterPage.MaxLimit"/>, default
    /// <see cref="Engine.Replication.ListDeadLetterPage.DefaultLimit"/>), or what is wrong with them.
    /// </summary>
    internal static (int Offset, int Limit, string? Error) PageOf(IQueryCollection query)
    {
        const int MaxLimit = Engine.Replication.ListDeadLetterPage.MaxLimit;
        var offset = 0;
        var limit = Engine.Replication.ListDeadLetterPage.DefaultLimit;
        if (query.TryGetValue("offset", out var offsetText) && !(offsetText.Count == 1 && int.TryParse(offsetText[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset)))
        {
            return (0, 0, $"offset '{offsetText}' is not a whole number from 0: give ?offset=0 for the first page, or the 'next' of the page before.");
        }

        if (query.TryGetValue("limit", out var limitText) && !(limitText.Count == 1 && int.TryParse(limitText[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit))
        {
            return (0, 0, $"limit '{limitText}' must be a whole number from 1 to {MaxLimit}.");
        }

        return (offset, limit, null);
    }

    /// <summary>Access rules first, then the endpoint; an exception is logged under an id and answered 500 with that id only.</summary>
    private static async Task GuardAsync(HttpContext context, RequestDelegate next, bool loopback, AdminToken? token, ILogger log)
    {
        var request = context.Request;
        if (request.ContentLength > MaxBodyBytes)
        {
            await WriteAsync(context, 413, $"the body exceeds {MaxBodyBytes} bytes").ConfigureAwait(false);
            return;
        }

        var refusal = AdminAccess.Check(
            request.Method,
            request.Headers.Host.Count == 1 ? request.Headers.Host.ToString() : null,
            request.Headers.Origin.Count > 0 ? request.Headers.Origin.ToString() : null,
            request.Headers["Sec-Fetch-Site"].Count > 0 ? request.Headers["Sec-Fetch-Site"].ToString() : null,
            request.Headers.Authorization.Count == 1 ? request.Headers.Authorization.ToString() : null,
            loopback,
            token);
        if (refusal is not null)
        {
            if (refusal.Status == 401)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
            }

            if (refusal.Status != 400)
            {
                log.LogWarning("Admin endpoint refused {Method} {Path} from {Remote}: {Status} {Reason}",
                    request.Method, request.Path.Value, context.Connection.RemoteIpAddress, refusal.Status, refusal.Reason);
            }

            await WriteAsync(context, refusal.Status, refusal.Reason).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
            log.LogError(e, "Admin endpoint: {Method} {Path} failed (error id {ErrorId})", request.Method, request.Path.Value, id);
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await WriteAsync(context, 500, $"internal error {id}; the node's log has the details under this id").ConfigureAwait(false);
            }
        }
    }

    private static Task WriteAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n");
    }

    /// <summary>What to tell the operator when Kestrel could not listen on <paramref name="endpoint"/>, or null when <paramref name="e"/> is no bind failure.</summary>
    internal static string? BindError(Exception e, IPEndPoint endpoint)
    {
        var socket = e as SocketException ?? e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException;
        if (e is AddressInUseException || e.InnerException is AddressInUseException || socket?.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return $"--admin {endpoint}: the address is already in use (another node or program listens on port {endpoint.Port}); stop it or give --admin a free port.";
        }

        return socket?.SocketErrorCode switch
        {
            SocketError.AddressNotAvailable =>
                $"--admin {endpoint}: {endpoint.Address} is not an address of this machine; give --admin one of its addresses (e.g. 127.0.0.1:{endpoint.Port}).",
            SocketError.AccessDenied =>
                $"--admin {endpoint}: not allowed to listen on port {endpoint.Port} (ports below 1024 need privileges); give --admin a port from 1024 up.",
            null => e is IOException ? $"--admin {endpoint}: cannot listen there: {e.Message}" : null,
            _ => $"--admin {endpoint}: cannot listen there: {socket.Message}.",
        };
    }

    /// <summary>Stops accepting and closes the open connections (in-flight calls get 2 s to finish).</summary>
    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
