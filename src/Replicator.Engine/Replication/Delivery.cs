using Replicator.Model;

namespace Replicator.Engine.Replication;

/// <summary>A change as a bucket holds it: the change and the id its acknowledgement answers.</summary>
public sealed record Delivery(DeliveryId Id, RowChange Change);
