namespace Replicator.Engine.Replication;

/// <summary>
/// Per-pk retries: exponential backoff from <see cref="Initial"/> by <see cref="Factor"/>, capped at
/// <see cref="Max"/>, with ± <see cref="Jitter"/> spread; after <see cref="MaxAttempts"/> failed
/// attempts the pk's change is dead-lettered.
/// </summary>
public sealed record RetryPolicy(TimeSpan Initial, double Factor, TimeSpan Max, int MaxAttempts, double Jitter)
{
    public static RetryPolicy Default { get; } = new(TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromMinutes(15), 20, 0.2);

    /// <summary>
    /// The longest a change can spend between its first attempt and being parked: every backoff at
    /// its longest (full jitter) and every attempt taking <paramref name="applyTimeout"/>. A sink's
    /// record of a delete must outlive it, or a change retried that long could bring the row back.
    /// </summary>
    public TimeSpan Horizon(TimeSpan applyTimeout)
    {
        var total = applyTimeout * MaxAttempts;
        for (var attempt = 1; attempt < MaxAttempts; attempt++)
        {
            var backoff = Backoff(attempt, 1.0);
            total += backoff;
            if (backoff >= Max)
            {
                // Every later backoff is the cap too.
                total += Max * (MaxAttempts - 1 - attempt);
                break;
            }
        }

        return total;
    }

    /// <summary>The wait after the <paramref name="failedAttempts"/>-th failure; <paramref name="unitSample"/> in [0,1) picks the jitter.</summary>
    public TimeSpan Backoff(int failedAttempts, double unitSample)
    {
        var exponent = Math.Max(0, failedAttempts - 1);
        var raw = Initial.TotalMilliseconds * Math.Pow(Factor, Math.Min(exponent, 64));
        var capped = Math.Min(raw, Max.TotalMilliseconds);
        var spread = 1 + Jitter * (2 * unitSample - 1);
        return TimeSpan.FromMilliseconds(Math.Max(0, Math.Min(capped * spread, Max.TotalMilliseconds)));
    }
}
