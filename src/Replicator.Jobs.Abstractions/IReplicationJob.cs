namespace Replicator.Jobs;

/// <summary>
/// What a replicator definition does with its changes. A job gets a batch of pks of one bucket,
/// each with its newest change, and returns one <see cref="ApplyResult"/> per item in the same
/// order. It must be idempotent: the same change may be applied twice after a failure, and a
/// built-in job refuses a change whose source version is older than what the sink holds.
/// One instance per definition per node serves every bucket there, concurrently.
/// </summary>
/// <remarks>
/// Throwing, or running past the definition's apply-timeout, fails the batch as a whole: its pks
/// are tried again one by one, so a row that makes the job throw spends only its own attempts. A
/// job that cannot reach its sink throws (or returns <see cref="ApplyResult.SinkUnavailable"/>) and
/// the bucket tells an outage from the exception (a timeout, a refused connection or an authentication error counts as an outage).
/// </remarks>
public interface IReplicationJob : IAsyncDisposable
{
    Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken);
}
