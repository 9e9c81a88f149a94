namespace Replicator.Jobs;

/// <summary>The outcome of applying one pk.</summary>
/// <param name="Stale">The sink already held this version or a newer one and refused the write (a fenced duplicate).</param>
/// <param name="Unavailable">
/// The write failed because the sink could not take any write (unreachable, timing out, the job's
/// credentials refused), not because of this row: evidence of a sink outage (the engine counts these as evidence of an outage, not against the row).
/// </param>
public readonly record struct ApplyResult(bool Success, string? Error = null, bool Stale = false, bool Unavailable = false)
{
    public static ApplyResult Applied { get; } = new(true);

    public static ApplyResult Refused { get; } = new(true, Stale: true);

    /// <summary>The sink refused this row (a poison row: retried, then dead-lettered).</summary>
    public static ApplyResult Failed(string error) => new(false, error);

    /// <summary>The sink could not take the write at all (see <see cref="Unavailable"/>).</summary>
    public static ApplyResult SinkUnavailable(string error) => new(false, error, Unavailable: true);
}
