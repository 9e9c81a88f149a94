using Replicator.Engine.Jobs.RedisCache;
using Akka.Configuration;
using Replicator.Engine.Configuration;

namespace Replicator.Engine.Jobs;

/// <summary>
/// The registry of built-in job types: <c>redis-cache</c> and <c>log</c>. A <c>job.type</c> that
/// is not registered is the assembly-qualified name of a class implementing
/// <see cref="Replicator.Jobs.IReplicationJob"/> (see <see cref="JobFactory"/>).
/// </summary>
internal static class JobTypes
{
    public static readonly JobType RedisCache = new(
        "redis-cache",
        ["redis", "key-prefix", "tombstone-ttl"],
        ConfigurationFactory.ParseString("redis = \"127.0.0.1:6379\"\nkey-prefix = \"\"\ntombstone-ttl = 24h"),
        CheckRedisCache,
        context => new RedisCacheJob(context),
        RedisCacheSinkChecker.CreateAsync);

    public static readonly JobType Log = new(
        "log",
        [],
        ConfigurationFactory.Empty,
        (_, _) => { },
        context => new LogJob(context));

    public static readonly IReadOnlyDictionary<string, JobType> All =
        new Dictionary<string, JobType>(StringComparer.Ordinal) { [RedisCache.Name] = RedisCache, [Log.Name] = Log };

    private static void CheckRedisCache(ConfigReader job, JobSettingsCheck definition)
    {
        if (TransportSecurity.CheckRedis(job.String("redis", required: true), job.Path + ".redis", definition.Insecure) is { } unsafeTransport)
        {
            throw new ConfigurationException(unsafeTransport);
        }

        var tombstone = job.Duration("tombstone-ttl", TimeSpan.FromSeconds(1), TimeSpan.FromDays(365));
        var horizon = definition.Retry.Horizon(definition.ApplyTimeout);
        if (tombstone < horizon)
        {
            // A delete's tombstone must outlive any older change of its row still being retried.
            throw job.Error(
                "tombstone-ttl",
                $"({Text(tombstone)}) is shorter than the {Text(horizon)} a change can spend in retries (retry.max-attempts, retry.max, apply-timeout): " +
                $"a delete's tombstone could expire while an older change of the row is retried, and bring the row back. Set tombstone-ttl to {Text(horizon)} or more, or shorten the retries.");
        }
    }

    /// <summary>A duration as 2h45m28s (whole seconds, rounded up).</summary>
    private static string Text(TimeSpan duration)
    {
        var seconds = (long)Math.Ceiling(duration.TotalSeconds);
        return (seconds / 3600 > 0 ? $"{seconds / 3600}h" : "") + (seconds % 3600 / 60 > 0 ? $"{seconds % 3600 / 60}m" : "") + (seconds % 60 > 0 || seconds == 0 ? $"{seconds % 60}s" : "");
    }
}
