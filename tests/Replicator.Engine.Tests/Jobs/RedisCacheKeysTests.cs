using Akka.Configuration;
using Replicator.Binlog.Columns;
using Replicator.Engine.Jobs;
using Replicator.Engine.Jobs.RedisCache;
using Replicator.Model;
using Xunit;

namespace Replicator.Engine.Tests.Jobs;

public sealed class RedisCacheKeysTests
{
    [Fact]
    public void Row_and_version_keys_follow_the_layout()
    {
        Assert.Equal("demo:shop:orders:42", RedisCacheKeys.Row("demo:", "shop", "orders", "42"));
        Assert.Equal("demo:_v:shop:orders:42", RedisCacheKeys.Version("demo:", "shop", "orders", "42"));
        Assert.Equal("shop:orders:", RedisCacheKeys.RowPrefix("", "shop", "orders"));
    }

    [Fact]
    public void The_pk_is_what_follows_the_table_prefix()
    {
        var prefix = RedisCacheKeys.RowPrefix("demo:", "shop", "orders");

        Assert.Equal("7:a\\:b", RedisCacheKeys.PkOf(prefix, RedisCacheKeys.Row("demo:", "shop", "orders", "7:a\\:b")));
        Assert.Throws<ArgumentException>(() => RedisCacheKeys.PkOf(prefix, "other:shop:orders:7"));
    }

    [Fact]
    public void The_scan_pattern_escapes_glob_characters_of_the_prefix()
    {
        Assert.Equal("a\\*b\\?:s:t\\[1\\]:*", RedisCacheKeys.RowPattern("a*b?:", "s", "t[1]"));
        Assert.Equal("s:t:*", RedisCacheKeys.RowPattern("", "s", "t"));
    }

    [Fact]
    public void The_job_writes_under_the_same_keys_the_checker_reads()
    {
        var key = new RowKey(["id"], [ColumnValue.FromInt64(42)]);

        Assert.Equal(RedisCacheKeys.Row("p:", "s", "t", key.Canonical), RedisCacheJob.RowKeyOf("p:", "s", "t", key));
        Assert.Equal(RedisCacheKeys.Version("p:", "s", "t", key.Canonical), RedisCacheJob.VersionKeyOf("p:", "s", "t", key));
    }

    [Fact]
    public async Task The_registry_offers_a_checker_for_redis_cache_only()
    {
        Assert.NotNull(JobTypes.RedisCache.CreateChecker);
        Assert.Null(JobTypes.Log.CreateChecker);

        var context = new SinkCheckContext("Server=127.0.0.1;User ID=cdc", ConfigurationFactory.Empty);
        await Assert.ThrowsAsync<ArgumentException>(() => JobFactory.CreateCheckerAsync("log", context));
        await Assert.ThrowsAsync<ArgumentException>(() => JobFactory.CreateCheckerAsync("no-such-type", context));
    }
}
