using Akka.Actor;
using Replicator.Engine.Capture.Testing;
using Replicator.Engine.Configuration;
using Replicator.Engine.Replication;
using Replicator.Engine.Routing;
using Replicator.Engine.Serialization;

namespace Replicator.Engine.Capture;

/// <summary>
/// Decides a capture's deliveries, without an actor: which definitions a change goes to (their
/// topics), to which bucket (its pk's hash), under which sequence number of the epoch, cut into
/// deliveries no larger than a message between nodes carries; what is outstanding, and what to
/// send again when a delivery stays unacknowledged, its bucket is handed off or its node leaves.
/// The capture sends what it returns and feeds the commit tracker and the credits from its answers.
/// </summary>
internal sealed class DeliveryPlanner
{
    private readonly IReadOnlyList<CaptureRoute> _routes;
    private readonly Dictionary<string, int> _routeIndex = new(StringComparer.Ordinal);
    private readonly CaptureSettings _capture;
    private readonly DeliveryChaos? _chaos;
    private readonly OutstandingDeliveries _outstanding = new();
    private readonly Dictionary<(int Route, int Bucket), List<SequencedChange>> _routed = new();
    private readonly List<Outstanding> _finished = new();

    // Tables whose changes are held here because one of theirs is too large for any delivery.
    private readonly HashSet<(string Schema, string Table)> _oversized = new();
    private long _sequence;

    public DeliveryPlanner(IReadOnlyList<CaptureRoute> routes, CaptureSettings capture, DeliveryChaos? chaos)
    {
        _routes = routes;
        _capture = capture;
        _chaos = chaos;
        for (var r = 0; r < routes.Count; r++)
        {
            _routeIndex[routes[r].Definition.Name] = r;
        }
    }

    /// <summary>The epoch deliveries go out under; acknowledgements of another are ignored.</summary>
    public string Epoch { get; private set; } = "";

    /// <summary>Deliveries sent and not yet finished.</summary>
    public int Outstanding => _outstanding.Count;

    /// <summary>Starts over under a new epoch (a new read from the safe offset): nothing is outstanding, sequence numbers start at 1.</summary>
    public void StartEpoch(string epoch)
    {
        Epoch = epoch;
        _sequence = 0;
        _chaos?.Restarted();
        _outstanding.Clear();
        _routed.Clear();
        _oversized.Clear();
    }

    /// <summary>
    /// Routes a captured change to the bucket of every definition whose topics match, to go out
    /// with the next <see cref="TakeRouted"/>. A change larger than any delivery can carry, or one
    /// of a table already held for that, goes nowhere (<see cref="Routed.Oversized"/>).
    /// </summary>
    public Routed Route(ChangeCaptured captured, DateTime now)
    {
        var change = captured.Change;
        var ticket = new ChangeTicket(WireFormat.EstimatedSize(change));
        for (var r = 0; r < _routes.Count; r++)
        {
            var route = _routes[r];
            if (!route.Matcher.Matches(change.Topic))
            {
                continue;
            }

            if (ticket.Bytes > _capture.MaxChangeBytes || (_oversized.Count > 0 && _oversized.Contains((change.Schema, change.Table))))
            {
                return new Routed(0, ticket.Bytes, Oversized: true, PausesTable: _oversized.Add((change.Schema, change.Table)));
            }

            var sequence = ++_sequence;
            var bucket = BucketHash.BucketOf(change.Key.Canonical, route.Definition.Buckets);
            ticket.Remaining++;
            _outstanding.Add(sequence, new Outstanding(r, bucket, captured, ticket, now));
            if (!_routed.TryGetValue((r, bucket), out var list))
            {
                _routed[(r, bucket)] = list = [];
            }

            list.Add(new SequencedChange(sequence, change));
        }

        return new Routed(ticket.Remaining, ticket.Bytes, Oversized: false, PausesTable: false);
    }

    /// <summary>The deliveries of everything routed since the last call.</summary>
    public IReadOnlyList<BucketDelivery> TakeRouted()
    {
        var deliveries = Deliveries(_routed);
        _routed.Clear();
        return deliveries;
    }

    /// <summary>
    /// A bucket finished these deliveries (answering from <paramref name="node"/>). Returns the ones
    /// that were outstanding, now done; a change's credits return once its last one is
    /// (<see cref="ChangeTicket.Remaining"/> reaches 0). The list is reused by the next call.
    /// </summary>
    public IReadOnlyList<Outstanding> Finish(ChangesFinished finished, Address node)
    {
        _finished.Clear();
        if (finished.Epoch != Epoch)
        {
            return _finished;
        }

        NoteHome(finished.Definition, finished.Bucket, node);
        foreach (var sequence in finished.Sequences)
        {
            if (_outstanding.TryFinish(sequence, out var outstanding))
            {
                outstanding.Ticket.Remaining--;
                _finished.Add(outstanding);
            }
        }

        return _finished;
    }

    /// <summary>The bucket on <paramref name="node"/> still holds these re-sent deliveries: they wait the longest interval before going again.</summary>
    public void Held(DeliveriesHeld held, Address node, DateTime now)
    {
        if (held.Epoch == Epoch)
        {
            NoteHome(held.Definition, held.Bucket, node);
            _outstanding.MarkHeld(held.Sequences, node, now);
        }
    }

    /// <summary>A bucket is stopping for a hand-off: everything outstanding for it goes again now, not only what it handed back.</summary>
    public Redelivery? Released(DeliveriesReleased released, DateTime now) =>
        released.Epoch == Epoch && _routeIndex.TryGetValue(released.Definition, out var route)
            ? Again(_outstanding.TakeHandedOff(route, released.Bucket, now))
            : null;

    /// <summary>What stayed unacknowledged past its redelivery interval (see <see cref="OutstandingDeliveries"/>).</summary>
    public Redelivery? Overdue(DateTime now, TimeSpan timeout) => Again(_outstanding.TakeOverdue(now, timeout));

    /// <summary>The unfinished deliveries of buckets last heard from on a departed node (or never heard from).</summary>
    public Redelivery? Departed(IReadOnlySet<Address> departed, DateTime now) => Again(_outstanding.TakeDeparted(departed, now));

    private Redelivery? Again(Dictionary<(int Route, int Bucket), List<SequencedChange>>? again) =>
        again is null ? null : new Redelivery(again.Values.Sum(l => l.Count), Deliveries(again));

    private void NoteHome(string definition, int bucket, Address node)
    {
        if (_routeIndex.TryGetValue(definition, out var route))
        {
            _outstanding.NoteHome(route, bucket, node);
        }
    }

    /// <summary>
    /// Each bucket's changes in order, in deliveries cut at max-changes-per-delivery changes or
    /// max-delivery-bytes of their estimated wire size, whichever comes first, so no delivery is
    /// larger than a remoting frame (which would drop it, and every re-send of it, without a word).
    /// A change larger than max-delivery-bytes goes alone; none is larger than a frame (see <see cref="Route"/>).
    /// </summary>
    private IReadOnlyList<BucketDelivery> Deliveries(Dictionary<(int Route, int Bucket), List<SequencedChange>> outgoing)
    {
        if (outgoing.Count == 0)
        {
            return [];
        }

        var deliveries = new List<BucketDelivery>(outgoing.Count);
        var settledBelow = _outstanding.LowestOutstanding(_sequence + 1);
        foreach (var ((routeIndex, bucket), ordered) in outgoing)
        {
            var route = _routes[routeIndex];
            var changes = _chaos?.Shape((routeIndex, bucket), ordered, () => ++_sequence) ?? ordered;
            if (changes.Count == 0)
            {
                continue;
            }

            var sizes = new long[changes.Count];
            for (var i = 0; i < sizes.Length; i++)
            {
                sizes[i] = _outstanding.TryGet(changes[i].Sequence, out var outstanding) ? outstanding.Ticket.Bytes : WireFormat.EstimatedSize(changes[i].Change);
            }

            foreach (var (start, count) in DeliveryCuts.Of(sizes, _capture.MaxChangesPerDelivery, _capture.MaxDeliveryBytes))
            {
                var chunk = count == changes.Count ? changes : changes.GetRange(start, count);
                deliveries.Add(new BucketDelivery(route.Region, new DeliverChanges(route.Definition.Name, bucket, Epoch, settledBelow, chunk)));
            }
        }

        return deliveries;
    }
}

/// <summary>
/// Where a captured change went: to <paramref name="Deliveries"/> buckets (0 when no topic matched,
/// or when it is <paramref name="Oversized"/>); <paramref name="Bytes"/> is its estimated wire size.
/// <paramref name="PausesTable"/>: it is the first oversized change of its table in this epoch.
/// </summary>
internal readonly record struct Routed(int Deliveries, long Bytes, bool Oversized, bool PausesTable);

/// <summary>A delivery to send: to the definition's shard region (or proxy).</summary>
internal readonly record struct BucketDelivery(IActorRef Region, DeliverChanges Message);

/// <summary>Deliveries to send again, holding <paramref name="Changes"/> changes.</summary>
internal sealed record Redelivery(int Changes, IReadOnlyList<BucketDelivery> Deliveries);
