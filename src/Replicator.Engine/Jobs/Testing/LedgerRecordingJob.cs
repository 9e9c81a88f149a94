using Replicator.Jobs;

namespace Replicator.Engine.Jobs.Testing;

/// <summary>
/// Test instrumentation, installed around every job by <see cref="JobFactory"/> only when
/// <c>replicator.testing.apply-ledger</c> names a file: each change the job applied or refused as
/// stale becomes a line of the <see cref="ApplyLedger"/>, so jobs themselves know nothing of it.
/// </summary>
internal sealed class LedgerRecordingJob(IReplicationJob inner, ApplyLedger ledger, string sink) : IReplicationJob
{
    public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
    {
        var results = await inner.ApplyAsync(batch, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < results.Count && i < batch.Count; i++)
        {
            if (results[i].Success)
            {
                ledger.Record(batch[i].Change, sink, applied: !results[i].Stale);
            }
        }

        return results;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
