using Replicator.Engine.Replication;

namespace Replicator.Engine.Configuration;

/// <summary>A replicator definition (replicator.definitions.&lt;name&gt;): what it follows, how it spreads and batches, and its job.</summary>
public sealed record DefinitionSettings(
    string Name,
    string Source,
    IReadOnlyList<string> Topics,
    int Buckets,
    DedupeMode Mode,
    int BatchSize,
    TimeSpan ApplyTimeout,
    RetryPolicy Retry,
    JobSettings Job)
{
    internal static DefinitionSettings Read(ConfigReader reader, string name, IReadOnlyList<SourceSettings> sources, bool insecure = false)
    {
        reader.RequireOnly("source", "topics", "buckets", "mode", "batch-size", "apply-timeout", "retry", "job");
        var source = reader.String("source");
        if (source.Length == 0)
        {
            source = sources.Count == 1
                ? sources[0].Name
                : throw reader.Error("source", $"is required when there is not exactly one source (there are {sources.Count}).");
        }
        else if (sources.All(s => s.Name != source))
        {
            throw reader.Error("source", $"names '{source}', which is not under replicator.sources (known: {string.Join(", ", sources.Select(s => s.Name))}).");
        }

        var topics = reader.StringList("topics");
        if (topics.Count == 0)
        {
            throw reader.Error("topics", "must list at least one topic, e.g. [\"orders_write\", \"*_update\"].");
        }

        var retryReader = reader.Child("retry");
        retryReader.RequireOnly("initial", "factor", "max", "max-attempts", "jitter");
        var retry = new RetryPolicy(
            retryReader.Duration("initial", TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)),
            retryReader.Double("factor", 1.0, 100.0),
            retryReader.Duration("max", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1)),
            retryReader.Int("max-attempts", 1, 1_000_000),
            retryReader.Double("jitter", 0.0, 1.0));

        var applyTimeout = reader.Duration("apply-timeout", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        var jobReader = reader.Child("job");
        var type = jobReader.String("type", required: true);
        if (type is "redis-cache")
        {
            jobReader.RequireOnly(JobSettings.KnownKeys);
            if (TransportSecurity.CheckRedis(jobReader.String("redis", required: true), jobReader.Path + ".redis", insecure) is { } unsafeTransport)
            {
                throw new Akka.Configuration.ConfigurationException(unsafeTransport);
            }
            var tombstone = jobReader.Duration("tombstone-ttl", TimeSpan.FromSeconds(1), TimeSpan.FromDays(365));
            var horizon = retry.Horizon(applyTimeout);
            if (tombstone < horizon)
            {
                // A delete's tombstone must outlive any older change of its row still being retried.
                throw jobReader.Error(
                    "tombstone-ttl",
                    $"({Text(tombstone)}) is shorter than the {Text(horizon)} a change can spend in retries (retry.max-attempts, retry.max, apply-timeout): " +
                    $"a delete's tombstone could expire while an older change of the row is retried, and bring the row back. Set tombstone-ttl to {Text(horizon)} or more, or shorten the retries.");
            }
        }

        return new DefinitionSettings(
            name,
            source,
            topics,
            reader.Int("buckets", 1, 65536),
            reader.Enum<DedupeMode>("mode"),
            reader.Int("batch-size", 1, 100_000),
            applyTimeout,
            retry,
            new JobSettings(type, jobReader.HasAny ? jobReader.Config : Akka.Configuration.ConfigurationFactory.Empty, jobReader.Path));
    }

    /// <summary>A duration as 2h45m28s (whole seconds, rounded up).</summary>
    private static string Text(TimeSpan duration)
    {
        var seconds = (long)Math.Ceiling(duration.TotalSeconds);
        var text = (seconds / 3600 > 0 ? $"{seconds / 3600}h" : "") + (seconds % 3600 / 60 > 0 ? $"{seconds % 3600 / 60}m" : "") + (seconds % 60 > 0 || seconds == 0 ? $"{seconds % 60}s" : "");
        return text;
    }
}
