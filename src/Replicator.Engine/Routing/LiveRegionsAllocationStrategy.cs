using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace Replicator.Engine.Routing;

/// <summary>
/// Bucket allocation that only ever counts on regions that can answer: those of nodes that are Up
/// and reachable, in the incarnation the region was first seen in. Sharding's coordinator keeps a
/// dead node's region in its state for down-removal-margin after the node is removed. Its own
/// strategy would meanwhile move one of that region's buckets to a node that just joined, send the
/// hand-off to a region that never answers, and hold the bucket's messages for handoff-timeout
/// (worse when the node comes back on the same address: the old region's messages then reach the
/// new process and are dropped there). So:
/// <list type="bullet">
/// <item>no rebalance while any region is on a node that is not Up and reachable, or is one a
/// restarted node left behind; the coordinator drops such a region soon, and the next round
/// rebalances;</item>
/// <item>a bucket is allocated among the live regions only.</item>
/// </list>
/// The rest (which region gets a bucket, how many move per round) is the wrapped strategy's.
/// </summary>
public sealed class LiveRegionsAllocationStrategy : IShardAllocationStrategy, IActorSystemDependentAllocationStrategy
{
    private static readonly IImmutableSet<string> NothingToRebalance = ImmutableHashSet<string>.Empty;

    private readonly IShardAllocationStrategy _inner;
    private readonly Func<IActorRef, RegionNode?> _nodeOf;

    // The incarnation (member uid) of each region's node when the region was first seen: a node
    // restarted on the same address is a new member, and the old region stays dead.
    private readonly Dictionary<IActorRef, long> _incarnations = new();

    /// <param name="inner">The strategy that decides among live regions.</param>
    /// <param name="nodeOf">The node a region runs on as the cluster sees it now, or null when no member has its address.</param>
    public LiveRegionsAllocationStrategy(IShardAllocationStrategy inner, Func<IActorRef, RegionNode?> nodeOf)
    {
        _inner = inner;
        _nodeOf = nodeOf;
    }

    /// <summary>Wraps <paramref name="inner"/> with the membership of <paramref name="cluster"/>.</summary>
    public static LiveRegionsAllocationStrategy For(Cluster cluster, IShardAllocationStrategy inner) =>
        new(inner, region => NodeOf(cluster, region));

    public void Start(ActorSystem system)
    {
        switch (_inner)
        {
            case IActorSystemDependentAllocationStrategy dependent:
                dependent.Start(system);
                break;
            case IStartableAllocationStrategy startable:
                startable.Start();
                break;
        }
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var live = LiveRegions(currentShardAllocations);
        return live.Count == 0 || live.Count == currentShardAllocations.Count
            ? _inner.AllocateShard(requester, shardId, currentShardAllocations)
            : _inner.AllocateShard(requester, shardId, live);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress) =>
        LiveRegions(currentShardAllocations).Count == currentShardAllocations.Count
            ? _inner.Rebalance(currentShardAllocations, rebalanceInProgress)
            : Task.FromResult(NothingToRebalance);

    private IImmutableDictionary<IActorRef, IImmutableList<string>> LiveRegions(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations)
    {
        foreach (var gone in _incarnations.Keys.Where(r => !allocations.ContainsKey(r)).ToList())
        {
            _incarnations.Remove(gone);
        }

        var live = ImmutableDictionary.CreateBuilder<IActorRef, IImmutableList<string>>();
        foreach (var (region, shards) in allocations)
        {
            if (_nodeOf(region) is not { } node)
            {
                continue;
            }

            if (!_incarnations.TryGetValue(region, out var incarnation))
            {
                _incarnations[region] = incarnation = node.Incarnation;
            }

            if (node.Usable && node.Incarnation == incarnation)
            {
                live[region] = shards;
            }
        }

        return live.ToImmutable();
    }

    private static RegionNode? NodeOf(Cluster cluster, IActorRef region)
    {
        var address = region.Path.Address.HasLocalScope ? cluster.SelfAddress : region.Path.Address;
        var state = cluster.State;
        var member = state.Members.FirstOrDefault(m => m.Address == address);
        return member is null
            ? null
            : new RegionNode(member.UniqueAddress.Uid, member.Status == MemberStatus.Up && !state.Unreachable.Contains(member));
    }
}

/// <summary>The node a shard region runs on: its incarnation, and whether it is Up and reachable.</summary>
public readonly record struct RegionNode(long Incarnation, bool Usable);
