using Akka.Actor.Setup;
using Akka.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Replicator.Engine;

namespace Replicator.Host.Commands;

/// <summary>
/// The node of <c>replicator run</c> as a hosted service: starting it starts the node
/// (<see cref="ReplicatorNode.StartAsync"/>), stopping it leaves the cluster gracefully
/// (<see cref="ReplicatorNode.StopAsync"/>). When the cluster downs the node (its actor system
/// terminates while the host runs), it stops the host and says so in <see cref="Downed"/>.
/// </summary>
internal sealed class NodeService(Config config, IReadOnlyList<Setup> setups, IHostApplicationLifetime lifetime, ILogger<NodeService> log) : IHostedService
{
    private int _stopping;
    private int _downed;

    /// <summary>The node, once started.</summary>
    public ReplicatorNode? Node { get; private set; }

    /// <summary>True when the node stopped on its own (downed by the cluster) rather than because the host was stopped.</summary>
    public bool Downed => Volatile.Read(ref _downed) == 1;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var node = await ReplicatorNode.StartAsync(config, setups: setups).ConfigureAwait(false);
        Node = node;
        _ = node.WhenTerminated.ContinueWith(
            _ =>
            {
                if (Volatile.Read(ref _stopping) == 0)
                {
                    Volatile.Write(ref _downed, 1);
                    lifetime.StopApplication();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Runs the node's coordinated shutdown, which bounds each of its phases itself; the host's
    /// shutdown timeout (<see cref="ShutdownTimeout"/>) is longer than all of them together.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _stopping, 1);
        if (Node is not { } node)
        {
            return;
        }

        try
        {
            await node.StopAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            log.LogWarning("The node did not stop within the host's shutdown timeout; exiting without waiting for it.");
        }
    }

    /// <summary>
    /// How long the host waits for the node to stop: every phase of Akka's coordinated shutdown at
    /// its timeout (80 s with Akka's defaults), and 15 s more to close the node's connections.
    /// </summary>
    public static TimeSpan ShutdownTimeout(Config config)
    {
        var full = config.WithFallback(ReplicatorNode.NodeDefaults).WithFallback(ConfigurationFactory.Default());
        var shutdown = full.GetConfig("akka.coordinated-shutdown");
        var byDefault = shutdown.GetTimeSpan("default-phase-timeout", TimeSpan.FromSeconds(5));
        var phases = shutdown.GetConfig("phases");
        return phases.Root.GetObject().Items.Keys
            .Select(phase => phases.GetTimeSpan($"{phase}.timeout", byDefault))
            .Aggregate(TimeSpan.FromSeconds(15), (total, timeout) => total + timeout);
    }
}
