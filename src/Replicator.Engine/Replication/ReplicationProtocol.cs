using Replicator.Engine.Serialization;
using Replicator.Model;

namespace Replicator.Engine.Replication;

/// <summary>Messages between a capture and the buckets of a definition.</summary>
public interface IReplicationMessage : IReplicatorWireMessage
{
    string Definition { get; }

    int Bucket { get; }
}

/// <summary>A change and its delivery sequence number within the capture incarnation that sends it.</summary>
public sealed record SequencedChange(long Sequence, RowChange Change);

/// <summary>
/// Changes for one bucket, in source order. The sender is the capture: acknowledgements go back
/// to it. <paramref name="SettledBelow"/> tells the bucket it may forget finished deliveries of
/// this epoch with lower sequence numbers.
/// </summary>
public sealed record DeliverChanges(
    string Definition,
    int Bucket,
    string Epoch,
    long SettledBelow,
    IReadOnlyList<SequencedChange> Changes) : IReplicationMessage;

/// <summary>
/// The bucket finished these deliveries: applied, refused as stale by the sink's version fence,
/// or dead-lettered. The capture may count them as done.
/// </summary>
public sealed record ChangesFinished(
    string Definition,
    int Bucket,
    string Epoch,
    IReadOnlyList<long> Sequences) : IReplicationMessage;

/// <summary>
/// A bucket is stopping (hand-off during a rebalance, or its node leaving) with these deliveries
/// not finished (possibly none): the capture sends everything outstanding for the bucket again now
/// instead of waiting for its redelivery timeout.
/// </summary>
public sealed record DeliveriesReleased(
    string Definition,
    int Bucket,
    string Epoch,
    IReadOnlyList<long> Sequences) : IReplicationMessage;

/// <summary>
/// The bucket already holds these re-delivered deliveries (queued, backing off or being applied):
/// they reached it and are not lost, so the capture waits longer before sending them again.
/// </summary>
public sealed record DeliveriesHeld(
    string Definition,
    int Bucket,
    string Epoch,
    IReadOnlyList<long> Sequences) : IReplicationMessage;

/// <summary>Sharding's hand-off stop message for buckets: release what is unfinished, then stop.</summary>
public sealed record StopBucket : Akka.Actor.INoSerializationVerificationNeeded
{
    public static StopBucket Instance { get; } = new();
}
