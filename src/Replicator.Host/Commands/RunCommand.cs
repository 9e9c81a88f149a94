using System.CommandLine;
using System.Net;
using System.Net.Sockets;
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
        var admin = new Option<string?>("--admin") { Description = "Serve /status, /metrics and /dead-letters over HTTP on this host:port (e.g. 127.0.0.1:9090)." };
        var command = new Command("run", "Run a Replicator cluster node.") { config, admin };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(config)!, result.GetValue(admin), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo file, string? adminEndpoint, CancellationToken cancellationToken)
    {
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
        if (adminEndpoint is not null)
        {
            if (!IPEndPoint.TryParse(adminEndpoint, out var endpoint))
            {
                await node.StopAsync().ConfigureAwait(false);
                return Errors.Report($"--admin '{adminEndpoint}' is not host:port (e.g. 127.0.0.1:9090).");
            }

            try
            {
                server = AdminServer.Start(node, endpoint);
            }
            catch (SocketException e)
            {
                await node.StopAsync().ConfigureAwait(false);
                return Errors.Report(e.SocketErrorCode switch
                {
                    SocketError.AddressAlreadyInUse =>
                        $"--admin {endpoint}: the address is already in use (another node or program listens on port {endpoint.Port}); stop it or give --admin a free port.",
                    SocketError.AddressNotAvailable =>
                        $"--admin {endpoint}: {endpoint.Address} is not an address of this machine; give --admin one of its addresses (e.g. 127.0.0.1:{endpoint.Port}).",
                    SocketError.AccessDenied =>
                        $"--admin {endpoint}: not allowed to listen on port {endpoint.Port} (ports below 1024 need privileges); give --admin a port from 1024 up.",
                    _ => $"--admin {endpoint}: cannot listen there: {e.Message}.",
                });
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
        server?.Dispose();
        if (!node.WhenTerminated.IsCompleted)
        {
            await node.StopAsync().ConfigureAwait(false);
            return 0;
        }

        return Errors.Report("the node was removed from the cluster (downed) and stopped.");
    }
}
