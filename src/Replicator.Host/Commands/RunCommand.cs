using System.CommandLine;
using System.Net;
using Akka.Configuration;
using Replicator.Engine;
using Replicator.Engine.Configuration;
using Replicator.Host.Admin;

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
        var command = new Command("run", "Run a Replicator cluster node.") { config, admin, tokenFile };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(config)!, result.GetValue(admin), result.GetValue(tokenFile), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo file, string? adminEndpoint, FileInfo? tokenFile, CancellationToken cancellationToken)
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
        ReplicatorNode node;
        try
        {
            config = HoconLoader.LoadFile(file.FullName);
            node = await ReplicatorNode.StartAsync(config).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or TimeoutException or IOException)
        {
            return Errors.Report(e.Message);
        }

        AdminServer? server = null;
        if (endpoint is not null)
        {
            try
            {
                server = await AdminServer.StartAsync(node, endpoint, token).ConfigureAwait(false);
            }
            catch (AdminEndpointException e)
            {
                await node.StopAsync().ConfigureAwait(false);
                return Errors.Report(e.Message);
            }
        }

        using var stop = new CancellationTokenSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, cancellationToken);
        await Task.WhenAny(node.WhenTerminated, Task.Delay(Timeout.Infinite, linked.Token).ContinueWith(_ => { }, TaskScheduler.Default)).ConfigureAwait(false);
        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }

        if (!node.WhenTerminated.IsCompleted)
        {
            await node.StopAsync().ConfigureAwait(false);
            return 0;
        }

        return Errors.Report("the node was removed from the cluster (downed) and stopped.");
    }
}
