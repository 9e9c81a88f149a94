using Akka.Event;
using Replicator.Engine.Replication;
using Replicator.Jobs;
using Replicator.Model;

namespace Replicator.Engine.Jobs;

/// <summary>Writes each change as one JSON line to the node's log at info level. For trying definitions out.</summary>
public sealed class LogJob : IReplicationJob
{
    private readonly JobContext _context;

    public LogJob(JobContext context)
    {
        _context = context;
    }

    public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        var results = new ApplyResult[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            _context.Log.Info("{0}: {1}", _context.Definition.Name, ChangeJson.ToJson(batch[i].Change));
            results[i] = ApplyResult.Applied;
        }

        return Task.FromResult<IReadOnlyList<ApplyResult>>(results);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
