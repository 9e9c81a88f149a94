using Replicator.Engine.Routing;
using Replicator.Model;

namespace Replicator.Engine.Tests.Routing;

public sealed class RoutingTests
{
    [Theory]
    // Pinned values, cross-checked with an independent FNV-1a/jump-hash implementation: a change
    // here means pks move between buckets on upgrade, which breaks per-pk order.
    [InlineData("1", 64, 56)]
    [InlineData("42", 64, 42)]
    [InlineData("customer-7", 16, 1)]
    [InlineData("1:abc", 1024, 378)]
    public void Bucket_of_a_pk_is_stable_across_processes_and_versions(string canonical, int buckets, int expected)
    {
        Assert.Equal(expected, BucketHash.BucketOf(canonical, buckets));
    }

    [Fact]
    public void Buckets_spread_pks_evenly_and_growing_the_count_moves_few_of_them()
    {
        var counts = new int[16];
        var moved = 0;
        for (var i = 0; i < 16_000; i++)
        {
            var key = TestChanges.Key(i).Canonical;
            var bucket = BucketHash.BucketOf(key, 16);
            counts[bucket]++;
            if (BucketHash.BucketOf(key, 17) != bucket)
            {
                moved++;
            }
        }

        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
        Assert.InRange(moved, 600, 1300);
    }

    [Theory]
    [InlineData("orders_write", true)]
    [InlineData("ORDERS_update", true)]
    [InlineData("customers_delete", true)]
    [InlineData("customers_write", false)]
    public void Topic_matcher_takes_names_and_globs(string topic, bool expected)
    {
        var matcher = new TopicMatcher(["orders_write", "orders_update", "*_delete"]);
        Assert.Equal(expected, matcher.Matches(topic));
    }

    [Fact]
    public void Source_versions_sort_as_their_text_does()
    {
        var versions = new[]
        {
            new SourceVersion(1, 4000, 0), new SourceVersion(1, 4000, 3), new SourceVersion(2, 4, 0), new SourceVersion(10, 4, 0), new SourceVersion(1, 100_000_000, 70_000),
        };
        var byValue = versions.Order().ToList();
        var byText = versions.OrderBy(v => v.ToString(), StringComparer.Ordinal).ToList();
        Assert.Equal(byValue, byText);
        Assert.All(versions, v => Assert.Equal(v, SourceVersion.Parse(v.ToString())));
        Assert.Equal("0000001f000000000abc000007", new SourceVersion(0x1f, 0xabc, 7).ToString());
        Assert.Equal("ffffffffffffffffffffffffff", new SourceVersion(0xFFFF_FFFF, 0xFFFF_FFFF_FFFF, 0xFF_FFFF).ToString());
    }
}
