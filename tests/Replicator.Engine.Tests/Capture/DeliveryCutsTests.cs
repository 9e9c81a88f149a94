using Replicator.Engine.Capture;

namespace Replicator.Engine.Tests.Capture;

public sealed class DeliveryCutsTests
{
    [Fact]
    public void Deliveries_are_cut_at_the_change_count_or_before_the_change_that_would_pass_the_byte_bound()
    {
        long[] sizes = [10, 10, 10, 10, 10, 10, 10];
        Assert.Equal([(0, 3), (3, 3), (6, 1)], DeliveryCuts.Of(sizes, maxChanges: 3, maxBytes: 1000));
        Assert.Equal([(0, 2), (2, 2), (4, 2), (6, 1)], DeliveryCuts.Of(sizes, maxChanges: 100, maxBytes: 25));
    }

    [Fact]
    public void A_change_larger_than_the_byte_bound_goes_alone_and_order_is_kept()
    {
        long[] sizes = [10, 500, 10, 10, 600];
        var cuts = DeliveryCuts.Of(sizes, maxChanges: 100, maxBytes: 100).ToList();
        Assert.Equal([(0, 1), (1, 1), (2, 2), (4, 1)], cuts);
        Assert.Equal(Enumerable.Range(0, sizes.Length), cuts.SelectMany(c => Enumerable.Range(c.Start, c.Count)));
        Assert.Empty(DeliveryCuts.Of([], 100, 100));
    }
}
