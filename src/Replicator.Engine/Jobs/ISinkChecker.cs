namespace Replicator.Engine.Jobs;

/// <summary>
/// A job type's reader of its own sink: compares source tables with what its jobs wrote, row by
/// row. A job type offers one through <see cref="JobType.CreateChecker"/>; <c>replicator check</c>
/// finds it by the job type's name.
/// </summary>
public interface ISinkChecker : IAsyncDisposable
{
    /// <summary>Compares each table in turn, yielding its result as soon as it is known.</summary>
    IAsyncEnumerable<SinkCheckResult> CheckAsync(IReadOnlyList<SinkCheckTable> tables, CancellationToken cancellationToken = default);
}
