using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Replicator.Engine.Membership;

/// <summary>
/// Checks every member that joins against this node's <see cref="MemberFacts"/> (Akka.NET has no
/// configuration check at join). Each node runs one, at <c>/user/replicator-membership</c>, before it
/// joins. On seeing another member it sends it this node's facts, until the member's own facts come
/// back (each side answers what it receives). Then, when <see cref="JoinCompatibility"/> says no:
/// <list type="bullet">
/// <item>the newer of the two logs why and leaves: <see cref="Verdicts.Refused"/> completes with the reason,
/// and the node shuts down (its start fails with that reason);</item>
/// <item>the older logs why and downs the newer, a little later, in case it does not leave by itself.</item>
/// </list>
/// A newer member that never identifies itself (a node without this guard) is downed by the older
/// after <see cref="IdentifyTimeout"/>. <see cref="Verdicts.Admitted"/> completes once every member this node
/// saw has been found compatible, so a joining node starts its captures and buckets only after that.
/// </summary>
public sealed class MembershipGuard : ReceiveActor, IWithTimers
{
    public const string Name = "replicator-membership";

    public static readonly TimeSpan HelloInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan IdentifyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long the older member lets the newer one leave by itself before downing it.</summary>
    public static readonly TimeSpan DownDelay = TimeSpan.FromSeconds(2);

    private readonly MemberFacts _own;
    private readonly Verdicts _verdicts;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    // Members seen that have not identified themselves yet, with when they were first seen.
    private readonly Dictionary<UniqueAddress, (Member Member, DateTime Since)> _pending = new();
    private readonly HashSet<UniqueAddress> _admitted = new();
    private readonly HashSet<UniqueAddress> _refused = new();

    // Every member as the events last showed it (the cluster's read view may lag the events).
    private readonly Dictionary<UniqueAddress, Member> _members = new();
    private bool _leaving;

    public MembershipGuard(MemberFacts own, Verdicts verdicts)
    {
        _own = own;
        _verdicts = verdicts;
        Receive<ClusterEvent.IMemberEvent>(HandleMemberEvent);
        Receive<MemberFacts>(HandleFacts);
        Receive<Tick>(_ => HandleTick());
        Receive<DownLater>(HandleDownLater);
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The outcomes a starting node waits on.</summary>
    public sealed class Verdicts
    {
        private readonly TaskCompletionSource<string> _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _admitted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes with the reason when this node found it may not be part of the cluster it joined.</summary>
        public Task<string> Refused => _refused.Task;

        /// <summary>Completes when every member seen so far was found compatible (at once when this node is alone).</summary>
        public Task Admitted => _admitted.Task;

        internal void Refuse(string reason) => _refused.TrySetResult(reason);

        internal void Admit() => _admitted.TrySetResult();
    }

    public static Props Props(MemberFacts own, Verdicts verdicts) => Akka.Actor.Props.Create(() => new MembershipGuard(own, verdicts));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, HelloInterval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void HandleMemberEvent(ClusterEvent.IMemberEvent e)
    {
        var member = e.Member;
        if (e is ClusterEvent.MemberRemoved)
        {
            _members.Remove(member.UniqueAddress);
        }
        else
        {
            _members[member.UniqueAddress] = member;
        }

        if (member.UniqueAddress.Equals(_cluster.SelfUniqueAddress))
        {
            AdmitWhenSettled();
            return;
        }

        if (e is ClusterEvent.MemberRemoved or ClusterEvent.MemberExited or ClusterEvent.MemberLeft || member.Status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving)
        {
            _pending.Remove(member.UniqueAddress);
            AdmitWhenSettled();
            return;
        }

        if (_admitted.Contains(member.UniqueAddress))
        {
            return;
        }

        if (_pending.TryGetValue(member.UniqueAddress, out var known))
        {
            _pending[member.UniqueAddress] = (member, known.Since);
            return;
        }

        _pending[member.UniqueAddress] = (member, DateTime.UtcNow);
        Hello(member);
    }

    private void HandleFacts(MemberFacts facts)
    {
        var address = Sender.Path.Address;
        var member = _members.Values.FirstOrDefault(m => m.Address.Equals(address));
        if (!facts.Answer)
        {
            Sender.Tell(_own with { Answer = true });
        }

        if (member is null || _leaving || _refused.Contains(member.UniqueAddress))
        {
            return;
        }

        var reason = JoinCompatibility.Check(_own, facts, address.ToString());
        _pending.Remove(member.UniqueAddress);
        if (reason is null)
        {
            if (_admitted.Add(member.UniqueAddress))
            {
                _log.Info("Member {0} is compatible (cluster {1}, definitions {2}, journal {3})", address, facts.ClusterName, facts.DefinitionsFingerprint, facts.Journal);
            }

            AdmitWhenSettled();
            return;
        }

        Refuse(member, reason);
    }

    private void Refuse(Member peer, string reason)
    {
        _refused.Add(peer.UniqueAddress);
        if (SelfIsOlderThan(peer))
        {
            _log.Error("Refusing member {0}: {1} It is downed.", peer.Address, reason);
            Timers.StartSingleTimer(("down", peer.UniqueAddress), new DownLater(peer.UniqueAddress), DownDelay);
            return;
        }

        _leaving = true;
        var message = $"This node may not join the cluster at {peer.Address}: {reason}";
        _log.Error("{0} It stops.", message);
        _verdicts.Refuse(message);
        _ = CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterJoinUnsuccessfulReason.Instance);
    }

    private void HandleDownLater(DownLater down)
    {
        if (_members.ContainsKey(down.Member))
        {
            _cluster.Down(down.Member.Address);
        }
    }

    private void HandleTick()
    {
        var now = DateTime.UtcNow;
        foreach (var (address, (member, since)) in _pending.ToList())
        {
            if (now - since < IdentifyTimeout)
            {
                Hello(member);
                continue;
            }

            if (SelfIsOlderThan(member))
            {
                _pending.Remove(address);
                _log.Error("Refusing member {0}: it did not identify itself within {1} s (a node without Replicator's membership check, or of another program). It is downed.", member.Address, IdentifyTimeout.TotalSeconds);
                _cluster.Down(member.Address);
            }
            else
            {
                // An older member that does not answer (an earlier release) is not this node's to judge; stop asking.
                _pending.Remove(address);
                _log.Warning("Member {0} did not identify itself within {1} s; not checked.", member.Address, IdentifyTimeout.TotalSeconds);
                AdmitWhenSettled();
            }
        }
    }

    /// <summary>This node is Up and the peer is not, or is Up after it: this node is the one that stays.</summary>
    private bool SelfIsOlderThan(Member peer) =>
        _members.TryGetValue(_cluster.SelfUniqueAddress, out var self)
        && self.Status == MemberStatus.Up
        && (peer.Status != MemberStatus.Up || self.IsOlderThan(peer));

    private void Hello(Member member) =>
        Context.ActorSelection(new RootActorPath(member.Address) / "user" / Name).Tell(_own, Self);

    private void AdmitWhenSettled()
    {
        var selfUp = _members.TryGetValue(_cluster.SelfUniqueAddress, out var self) && self.Status == MemberStatus.Up;
        if (selfUp && _pending.Count == 0 && !_leaving)
        {
            _verdicts.Admit();
        }
    }

    private sealed record Tick
    {
        public static Tick Instance { get; } = new();
    }

    private sealed record DownLater(UniqueAddress Member);
}
