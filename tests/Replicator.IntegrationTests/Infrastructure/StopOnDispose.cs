using Replicator.Engine;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>Stops a node once, when the test stops it or, if it failed before, at the end.</summary>
public sealed class StopOnDispose(ReplicatorNode node) : IAsyncDisposable
{
    private bool _stopped;

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await node.StopAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
