using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.TestKit.Xunit2;
using Replicator.Engine.Routing;

namespace Replicator.Engine.Tests.Routing;

public sealed class LiveRegionsAllocationStrategyTests : TestKit
{
    // Three regions: A and B on nodes that stay; C on the node that is killed and restarted.
    private readonly IActorRef _a;
    private readonly IActorRef _b;
    private readonly IActorRef _c;
    private readonly Dictionary<IActorRef, RegionNode?> _nodes = new();
    private readonly LiveRegionsAllocationStrategy _strategy;

    public LiveRegionsAllocationStrategyTests()
    {
        _a = CreateTestProbe("a").Ref;
        _b = CreateTestProbe("b").Ref;
        _c = CreateTestProbe("c").Ref;
        _nodes[_a] = new RegionNode(1, true);
        _nodes[_b] = new RegionNode(2, true);
        _nodes[_c] = new RegionNode(3, true);
        _strategy = new LiveRegionsAllocationStrategy(new FewestShards(), r => _nodes.GetValueOrDefault(r));
    }

    private static IImmutableList<string> Shards(params int[] ids) => ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToImmutableList();

    private IImmutableDictionary<IActorRef, IImmutableList<string>> Allocations(params (IActorRef Region, IImmutableList<string> Shards)[] regions) =>
        regions.ToImmutableDictionary(r => r.Region, r => r.Shards);

    [Fact]
    public async Task With_every_region_live_it_rebalances_and_allocates_as_the_wrapped_strategy_does()
    {
        var empty = CreateTestProbe("empty").Ref;
        _nodes[empty] = new RegionNode(4, true);
        var allocations = Allocations((_a, Shards(0, 1, 2, 3)), (_b, Shards(4, 5, 6, 7)), (empty, Shards()));

        Assert.NotEmpty(await _strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));
        Assert.Equal(empty, await _strategy.AllocateShard(_a, "9", allocations));
    }

    [Fact]
    public async Task A_region_on_an_unreachable_node_stops_rebalancing_and_gets_no_new_bucket()
    {
        var allocations = Allocations((_a, Shards(0, 1, 2, 3, 4)), (_b, Shards(5, 6, 7, 8, 9)), (_c, Shards()));
        Assert.NotEmpty(await _strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));

        _nodes[_c] = new RegionNode(3, false);

        Assert.Empty(await _strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));
        Assert.NotEqual(_c, await _strategy.AllocateShard(_a, "10", allocations));
    }

    [Fact]
    public async Task The_region_a_restarted_node_left_behind_is_dead_while_the_new_one_is_live()
    {
        var allocations = Allocations((_a, Shards(0, 1, 2)), (_b, Shards(3, 4, 5)), (_c, Shards(6, 7, 8)));
        Assert.Empty(await _strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));

        // Node C is killed and comes back on the same address as a new member; its new region has
        // no buckets yet, and the coordinator still lists the old region with its buckets.
        var restarted = CreateTestProbe("c2").Ref;
        _nodes[_c] = new RegionNode(30, true);
        _nodes[restarted] = new RegionNode(30, true);
        allocations = Allocations((_a, Shards(0, 1, 2)), (_b, Shards(3, 4, 5)), (_c, Shards(6, 7, 8)), (restarted, Shards()));

        // Moving a bucket now would hand it off from the old region, which never answers.
        Assert.Empty(await _strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));

        // The coordinator drops the old region: its buckets go to the live regions, the restarted
        // node's first (it has fewest), and rebalancing goes on.
        Assert.Equal(restarted, await _strategy.AllocateShard(_a, "6", Allocations((_a, Shards(0, 1, 2)), (_b, Shards(3, 4, 5)), (restarted, Shards()))));
        allocations = Allocations((_a, Shards(0, 1, 2, 6, 7)), (_b, Shards(3, 4, 5, 8)), (restarted, Shards()));
        Assert.NotEmpty(await _strategy.Rebalance(allocations, ImmutableHashSet<string>.Empty));
    }

    [Fact]
    public async Task While_the_old_region_is_still_listed_a_bucket_is_allocated_among_the_live_ones_only()
    {
        var allocations = Allocations((_a, Shards(0, 1, 2)), (_b, Shards(3, 4, 5)), (_c, Shards()));
        Assert.Equal(_c, await _strategy.AllocateShard(_a, "6", allocations));

        _nodes[_c] = new RegionNode(31, true);
        var restarted = CreateTestProbe("c2").Ref;
        _nodes[restarted] = new RegionNode(31, true);
        var withRestarted = Allocations((_a, Shards(0, 1, 2)), (_b, Shards(3, 4, 5, 6)), (_c, Shards()), (restarted, Shards(7)));

        Assert.NotEqual(_c, await _strategy.AllocateShard(_a, "8", withRestarted));

        // A removed node's region (no member at its address) is never chosen either.
        _nodes[restarted] = null;
        Assert.Equal(_a, await _strategy.AllocateShard(_b, "8", withRestarted));
    }

    /// <summary>
    /// Stands in for Akka's least-shard strategy (which needs a running cluster): allocates to the
    /// region with the fewest buckets, and moves one bucket off the fullest when they differ by 2.
    /// </summary>
    private sealed class FewestShards : IShardAllocationStrategy
    {
        public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations) =>
            Task.FromResult(currentShardAllocations.MinBy(r => r.Value.Count).Key);

        public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress)
        {
            var fullest = currentShardAllocations.MaxBy(r => r.Value.Count).Value;
            var emptiest = currentShardAllocations.MinBy(r => r.Value.Count).Value;
            return Task.FromResult<IImmutableSet<string>>(fullest.Count - emptiest.Count >= 2 ? ImmutableHashSet.Create(fullest[0]) : ImmutableHashSet<string>.Empty);
        }
    }
}
