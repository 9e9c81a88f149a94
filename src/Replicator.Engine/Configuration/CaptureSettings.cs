namespace Replicator.Engine.Configuration;

/// <summary>How capture delivers and commits (replicator.capture).</summary>
public sealed record CaptureSettings(
    int MaxInFlight,
    int MaxChangesPerDelivery,
    TimeSpan OffsetCommitInterval,
    int SnapshotEvery,
    TimeSpan RedeliveryTimeout,
    TimeSpan ReconnectMinBackoff,
    TimeSpan ReconnectMaxBackoff)
{
    internal static CaptureSettings Read(ConfigReader reader)
    {
        reader.RequireOnly("max-in-flight", "max-changes-per-delivery", "offset-commit-interval", "snapshot-every", "redelivery-timeout", "reconnect-min-backoff", "reconnect-max-backoff");
        var min = reader.Duration("reconnect-min-backoff", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        var max = reader.Duration("reconnect-max-backoff", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        if (max < min)
        {
            throw reader.Error("reconnect-max-backoff", $"({max}) must not be shorter than reconnect-min-backoff ({min}).");
        }

        return new CaptureSettings(
            reader.Int("max-in-flight", 1, 10_000_000),
            reader.Int("max-changes-per-delivery", 1, 100_000),
            reader.Duration("offset-commit-interval", TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10)),
            reader.Int("snapshot-every", 1, 1_000_000),
            reader.Duration("redelivery-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
            min,
            max);
    }
}
