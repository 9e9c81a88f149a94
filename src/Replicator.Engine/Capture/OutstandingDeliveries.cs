using Akka.Actor;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Capture;

/// <summary>
/// The deliveries a capture has sent and not yet seen finished, by sequence number, and what it
/// knows about where they are: the node each bucket last answered from, and whether the bucket
/// said it still holds a re-sent change. It decides what to send again and when:
/// <list type="bullet">
/// <item>overdue: unacknowledged for redelivery-timeout, doubled with each re-send of that change
/// (up to 2^<see cref="MaxDoublings"/>), so a slow cluster is not buried under copies of work it
/// already holds; a change its bucket holds waits the longest interval;</item>
/// <item>departed: every change of a bucket last heard from on a node that left (or never heard
/// from), at once;</item>
/// <item>handed off: every change of a bucket that is stopping for a hand-off, at once.</item>
/// </list>
/// </summary>
internal sealed class OutstandingDeliveries
{
    /// <summary>A change re-sent n times waits redelivery-timeout × 2^min(n, this) before the next time.</summary>
    public const int MaxDoublings = 3;

    private readonly Dictionary<long, Outstanding> _bySequence = new();
    private readonly Dictionary<(int Route, int Bucket), Address> _homes = new();
    private long _lowest = 1;

    public int Count => _bySequence.Count;

    public void Add(long sequence, Outstanding outstanding) => _bySequence[sequence] = outstanding;

    public bool TryFinish(long sequence, out Outstanding outstanding) => _bySequence.Remove(sequence, out outstanding!);

    public bool TryGet(long sequence, out Outstanding outstanding) => _bySequence.TryGetValue(sequence, out outstanding!);

    /// <summary>Forgets every delivery (a new epoch starts over from the safe offset); bucket homes stay true.</summary>
    public void Clear()
    {
        _bySequence.Clear();
        _lowest = 1;
    }

    /// <summary>The lowest sequence number still outstanding, or <paramref name="next"/> when none is.</summary>
    public long LowestOutstanding(long next)
    {
        while (_lowest < next && !_bySequence.ContainsKey(_lowest))
        {
            _lowest++;
        }

        return _lowest;
    }

    /// <summary>The bucket answered from <paramref name="node"/>.</summary>
    public void NoteHome(int route, int bucket, Address node) => _homes[(route, bucket)] = node;

    /// <summary>The bucket on <paramref name="node"/> holds these re-sent changes: they reached it and wait there.</summary>
    public void MarkHeld(IEnumerable<long> sequences, Address node, DateTime now)
    {
        foreach (var sequence in sequences)
        {
            if (_bySequence.TryGetValue(sequence, out var outstanding))
            {
                outstanding.SentAt = now;
                outstanding.Resends = MaxDoublings;
                outstanding.HeldBy = node;
            }
        }
    }

    /// <summary>What is overdue at <paramref name="now"/>, grouped per bucket in sequence order; each is marked re-sent.</summary>
    public Dictionary<(int Route, int Bucket), List<SequencedChange>>? TakeOverdue(DateTime now, TimeSpan timeout) =>
        Take(_bySequence, o => now - o.SentAt >= timeout * (1 << Math.Min(o.Resends, MaxDoublings)), now, resetBackoff: false);

    /// <summary>
    /// Everything outstanding for buckets last heard from on one of <paramref name="departed"/> (or
    /// never heard from), and whatever a departed node said it held (its bucket may have answered
    /// from a new home since); those homes are forgotten.
    /// </summary>
    public Dictionary<(int Route, int Bucket), List<SequencedChange>>? TakeDeparted(IReadOnlySet<Address> departed, DateTime now)
    {
        var again = Take(
            _bySequence,
            o => !_homes.TryGetValue((o.Route, o.Bucket), out var home) || departed.Contains(home) || (o.HeldBy is { } holder && departed.Contains(holder)),
            now,
            resetBackoff: true);
        foreach (var (key, home) in _homes.ToList())
        {
            if (departed.Contains(home))
            {
                _homes.Remove(key);
            }
        }

        return again;
    }

    /// <summary>
    /// Everything outstanding for one bucket that is being handed off, to send again now: what it
    /// handed back, and whatever was on its way to it, since the region that hosted it drops the
    /// messages it buffered for it during the hand-off. Its home is forgotten until it answers again.
    /// </summary>
    public Dictionary<(int Route, int Bucket), List<SequencedChange>>? TakeHandedOff(int route, int bucket, DateTime now)
    {
        _homes.Remove((route, bucket));
        return Take(_bySequence, o => o.Route == route && o.Bucket == bucket, now, resetBackoff: true);
    }

    private static Dictionary<(int Route, int Bucket), List<SequencedChange>>? Take(Dictionary<long, Outstanding> from, Func<Outstanding, bool> due, DateTime now, bool resetBackoff)
    {
        Dictionary<(int Route, int Bucket), List<SequencedChange>>? again = null;
        foreach (var (sequence, outstanding) in from)
        {
            if (!due(outstanding))
            {
                continue;
            }

            again ??= new();
            if (!again.TryGetValue((outstanding.Route, outstanding.Bucket), out var list))
            {
                again[(outstanding.Route, outstanding.Bucket)] = list = [];
            }

            list.Add(new SequencedChange(sequence, outstanding.Captured.Change));
            outstanding.SentAt = now;
            outstanding.Resends = resetBackoff ? 0 : outstanding.Resends + 1;
            outstanding.HeldBy = null;
        }

        if (again is not null)
        {
            foreach (var list in again.Values)
            {
                list.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
            }
        }

        return again;
    }
}

/// <summary>How many routes still have to finish a captured change before its flow-control credits return, and its estimated wire bytes.</summary>
internal sealed class ChangeTicket(long bytes)
{
    public int Remaining { get; set; }

    /// <summary>The change's estimated size in a delivery (<see cref="Serialization.WireFormat.EstimatedSize(Model.RowChange)"/>): its byte credits, and what deliveries are cut by.</summary>
    public long Bytes { get; } = bytes;
}

/// <summary>One delivery of a captured change to one bucket of one route.</summary>
internal sealed class Outstanding(int route, int bucket, ChangeCaptured captured, ChangeTicket ticket, DateTime sentAt)
{
    public int Route { get; } = route;

    public int Bucket { get; } = bucket;

    public ChangeCaptured Captured { get; } = captured;

    public ChangeTicket Ticket { get; } = ticket;

    public DateTime SentAt { get; set; } = sentAt;

    /// <summary>Times sent again since the last reset (a departure or a hand-off resets it).</summary>
    public int Resends { get; set; }

    /// <summary>The node whose bucket said it holds this change since it was last sent, if any.</summary>
    public Address? HeldBy { get; set; }
}
