using Replicator.Engine.Jobs;
using Replicator.Engine.Replication;
using Replicator.Jobs;

namespace Replicator.Bench.Pipeline;

/// <summary>A sink that does nothing: what the framework itself costs per change.</summary>
public sealed class NullJob : IReplicationJob
{
    public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ApplyResult>>(Enumerable.Repeat(ApplyResult.Applied, batch.Count).ToArray());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
