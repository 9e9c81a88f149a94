using System.CommandLine;
using System.Net;
using Akka.Configuration;
using Replicator.Engine;
using Replicator.Engine.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Replicator.Host.Admin;
using Replicator.Host.Logging;

namespace Replicator.Host.Commands;

/// <summary><c>replicator run --config &lt;file&gt;</c>: runs a cluster node until it is stopped (Ctrl+C, SIGTERM) or downed.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "HOCON file of this node (it may include hocon/replicator.conf).", Required = true };
        var admin = new Option<string?>("--admin")
        {
            Description = "Serve /status, /metrics and /dead-letters over HTTP on this host:port (e.g. 127.0.0.1:9090). "
                + $"Retry and purge need the admin token (Authorization: Bearer <token>), from the {AdminToken.EnvironmentVariable} environment variable or --admin-token-file; "
                + "off loopback every call needs it, and the node refuses to start there without one.",
        };
        var tokenFile = new Option<FileInfo?>("--admin-token-file") { Description = $"File holding the admin token (instead of {AdminToken.EnvironmentVariable}); at least {AdminToken.MinimumLength} characters." };
        var logFormat = new Option<LogFormat>("--log-format")
        {
            Description = "How the log is written on standard output: text (Akka's [LEVEL][time][Thread n][source] lines, the default) or json (one JSON object per line).",
            DefaultValueFactory = _ => LogFormat.Text,
        };
        var command = new Command("run", "Run a Replicator cluster node.") { config, admin, tokenFile, logFormat };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(config)!, result.GetValue(admin), result.GetValue(tokenFile), result.GetValue(logFormat), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo file, string? adminEndpoint, FileInfo? tokenFile, LogFormat logFormat, CancellationToken cancellationToken)
    {
        IPEndPoint? endpoint = null;
        AdminToken? token = null;
        if (adminEndpoint is not null)
        {
            if (!IPEndPoint.TryParse(adminEndpoint, out endpoint))
            {
                return Errors.Report($"--admin '{adminEndpoint}' is not host:port (e.g. 127.0.0.1:9090).");
            }

            try
            {
                token = AdminToken.Resolve(tokenFile?.FullName, Environment.GetEnvironmentVariable);
            }
            catch (AdminEndpointException e)
            {
                return Errors.Report(e.Message);
            }

            if (!IPAddress.IsLoopback(endpoint.Address) && token is null)
            {
                return Errors.Report($"--admin {endpoint}: an admin endpoint off loopback needs a token. Set {AdminToken.EnvironmentVariable} or give --admin-token-file, or bind to 127.0.0.1.");
            }
        }
        else if (tokenFile is not null)
        {
            return Errors.Report("--admin-token-file is given without --admin.");
        }

        Config config;
        try
        {
            config = HoconLoader.LoadFile(file.FullName);
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or IOException)
        {
            return Errors.Report(e.Message);
        }

        var host = BuildHost(config, HostOwnsShutdown.WithFallback(NodeLogging.AkkaConfig(logFormat)).WithFallback(config), endpoint, token, logFormat, out var service);
        try
        {
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ConfigurationException or FormatException or TimeoutException or IOException || (endpoint is not null && AdminServer.BindError(e, endpoint) is not null))
            {
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return Errors.Report(endpoint is not null && AdminServer.BindError(e, endpoint) is { } bind ? bind : e.Message);
            }

            if (host is WebApplication app)
            {
                AdminServer.Announce(app, endpoint!, token);
            }

            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync().ConfigureAwait(false);
        }

        return service.Downed ? Errors.Report("the node was removed from the cluster (downed) and stopped.") : 0;
    }

    /// <summary>
    /// The host stops the node (<see cref="NodeService.StopAsync"/>) when a signal comes; Akka's own
    /// termination hook would start the same coordinated shutdown on SIGTERM behind the host's back,
    /// and the node would look downed.
    /// </summary>
    private static readonly Config HostOwnsShutdown = ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off");

    /// <summary>
    /// One host for the node and, with --admin, the admin endpoint on Kestrel; without it no server
    /// listens. Its console lifetime stops it on SIGTERM or Ctrl+C (Program leaves those signals to
    /// it), and it waits for the node's coordinated shutdown to finish.
    /// </summary>
    private static IHost BuildHost(Config fileConfig, Config nodeConfig, IPEndPoint? endpoint, AdminToken? token, LogFormat logFormat, out NodeService service)
    {
        var builder = endpoint is null
            ? (IHostApplicationBuilder)Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "replicator" })
            : WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "replicator" });
        builder.Logging.AddNodeConsole(logFormat);
        builder.Services.AddSingleton<IHostLifetime, ConsoleLifetime>();
        builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = NodeService.ShutdownTimeout(fileConfig));
        builder.Services.AddSingleton(services => new NodeService(
            nodeConfig,
            [new LoggerFactorySetup(services.GetRequiredService<ILoggerFactory>())],
            services.GetRequiredService<IHostApplicationLifetime>(),
            services.GetRequiredService<ILogger<NodeService>>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<NodeService>());

        if (builder is not WebApplicationBuilder web)
        {
            var plain = ((HostApplicationBuilder)builder).Build();
            service = plain.Services.GetRequiredService<NodeService>();
            return plain;
        }

        // The endpoint is built before the node starts; it reaches the node (and /metrics its meter)
        // through the service, and Kestrel starts after the node, so every call finds it.
        NodeService? started = null;
        AdminServer.AddTo(web, endpoint!, () => started?.Node?.Metrics.Meter);
        var app = web.Build();
        service = started = app.Services.GetRequiredService<NodeService>();
        AdminServer.MapOn(app, new NodeAdminBackend(() => started.Node ?? throw new InvalidOperationException("The admin endpoint serves only once the node has started.")), endpoint!, token);
        return app;
    }
}
