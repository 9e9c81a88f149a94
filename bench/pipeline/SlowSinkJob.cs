using Replicator.Engine.Jobs;
using Replicator.Engine.Replication;
using Replicator.Jobs;

namespace Replicator.Bench.Pipeline;

/// <summary>
/// Stands in for a slow sink: each batch takes 5 ms, and each node has one connection to it (one
/// batch at a time per node), so a node applies at most batch-size / 5 ms. Adding nodes adds
/// connections; that is what the scale-out table measures.
/// </summary>
public sealed class SlowSinkJob : IReplicationJob
{
    private readonly SemaphoreSlim _connection = new(1, 1);

    public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        await _connection.WaitAsync(cancellationToken);
        try
        {
            await Task.Delay(5, cancellationToken);
        }
        finally
        {
            _connection.Release();
        }

        return Enumerable.Repeat(ApplyResult.Applied, batch.Count).ToArray();
    }

    public ValueTask DisposeAsync()
    {
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }
}
