namespace Replicator.Engine.Serialization;

/// <summary>
/// Marks every message that crosses nodes or is persisted. reference.conf binds it to
/// <see cref="ReplicatorSerializer"/>; no reflection serializer ever sees these types.
/// </summary>
public interface IReplicatorWireMessage
{
}
