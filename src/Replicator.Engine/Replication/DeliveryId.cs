namespace Replicator.Engine.Replication;

/// <summary>
/// Names one delivery of a change to one definition: the capture incarnation that sent it and its
/// sequence number there. A re-delivered change keeps its id, so a bucket can tell a duplicate.
/// </summary>
public readonly record struct DeliveryId(string Epoch, long Sequence)
{
    public override string ToString() => $"{Epoch}/{Sequence}";
}
