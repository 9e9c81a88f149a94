using Replicator.Engine.Jobs;
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
        var job = JobSettings.Read(reader.Child("job"), name, new JobSettingsCheck(retry, applyTimeout, insecure));

        return new DefinitionSettings(
            name,
            source,
            topics,
            reader.Int("buckets", 1, 65536),
            reader.Enum<DedupeMode>("mode"),
            reader.Int("batch-size", 1, 100_000),
            applyTimeout,
            retry,
            job);
    }
}
