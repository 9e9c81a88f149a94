using Akka.Configuration;
using Replicator.Engine.Configuration;

namespace Replicator.Engine.Tests.Configuration;

public sealed class JobSettingsTests
{
    private const string Source = """
        replicator.sources.main {
          connection-string = "Server=127.0.0.1;Port=3306;User ID=cdc;Password=CANARY-5f2a"
          server-id = 1001
        }
        replicator.definitions.cache.topics = ["*_write"]
        """;

    private static ReplicatorSettings Parse(string hocon) => ReplicatorSettings.Create(HoconLoader.LoadString(Source + "\n" + hocon));

    [Fact]
    public void A_redis_cache_job_gets_its_type_defaults()
    {
        var job = Assert.Single(Parse("").Definitions).Job;
        Assert.Equal("redis-cache", job.Type);
        Assert.Equal("replicator.definitions.cache.job", job.Path);
        Assert.Equal("127.0.0.1:6379", job.Config.GetString("redis"));
        Assert.Equal("", job.Config.GetString("key-prefix"));
        Assert.Equal(TimeSpan.FromHours(24), job.Config.GetTimeSpan("tombstone-ttl"));
    }

    [Fact]
    public void A_redis_cache_job_keeps_the_keys_it_sets()
    {
        var job = Assert.Single(Parse("replicator.definitions.cache.job { redis = \"localhost:6380\", key-prefix = \"c:\", tombstone-ttl = 48h }").Definitions).Job;
        Assert.Equal("localhost:6380", job.Config.GetString("redis"));
        Assert.Equal("c:", job.Config.GetString("key-prefix"));
        Assert.Equal(TimeSpan.FromHours(48), job.Config.GetTimeSpan("tombstone-ttl"));
    }

    [Fact]
    public void An_unknown_job_type_names_the_definition_the_key_and_the_known_types()
    {
        var error = Assert.Throws<ConfigurationException>(() => Parse("replicator.definitions.cache.job.type = memcached"));
        Assert.Contains("replicator.definitions.cache.job.type", error.Message);
        Assert.Contains("definition 'cache'", error.Message);
        Assert.Contains("'memcached'", error.Message);
        Assert.Contains("redis-cache, log", error.Message);
    }

    [Fact]
    public void An_unknown_key_inside_a_redis_cache_job_fails_with_its_full_path()
    {
        var error = Assert.Throws<ConfigurationException>(() => Parse("replicator.definitions.cache.job.key-prefx = \"c:\""));
        Assert.Contains("replicator.definitions.cache.job.key-prefx is not a known setting", error.Message);
        Assert.Contains("replicator.definitions.cache.job.key-prefix", error.Message);
    }

    [Fact]
    public void A_log_job_inherits_no_redis_keys_and_refuses_them()
    {
        var job = Assert.Single(Parse("replicator.definitions.cache.job.type = log").Definitions).Job;
        Assert.Equal("log", job.Type);
        Assert.False(job.Config.HasPath("redis"));
        Assert.False(job.Config.HasPath("key-prefix"));
        Assert.False(job.Config.HasPath("tombstone-ttl"));

        var error = Assert.Throws<ConfigurationException>(() => Parse("replicator.definitions.cache.job { type = log, redis = \"localhost:6379\" }"));
        Assert.Contains("replicator.definitions.cache.job.redis is not a known setting", error.Message);
    }

    [Fact]
    public void A_loadable_class_name_is_accepted_with_its_config_unchecked()
    {
        var type = typeof(Replicator.Engine.Jobs.LogJob).AssemblyQualifiedName!;
        var job = Assert.Single(Parse($"replicator.definitions.cache.job {{ type = \"{type}\", anything = 1 }}").Definitions).Job;
        Assert.Equal(type, job.Type);
        Assert.Equal(1, job.Config.GetInt("anything"));
    }
}
