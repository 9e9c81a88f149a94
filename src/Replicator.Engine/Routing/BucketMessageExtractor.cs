using System.Globalization;
using Akka.Cluster.Sharding;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Routing;

/// <summary>
/// Maps replication messages to their bucket entity. Each bucket is its own shard, so a
/// definition's shard count is its bucket count, fixed for the life of the definition: changing
/// it on a live cluster would move pks between buckets and break per-pk order. Messages it does
/// not own get null, never "".
/// </summary>
public sealed class BucketMessageExtractor : IMessageExtractor
{
    public string? EntityId(object message) =>
        message is IReplicationMessage replication ? replication.Bucket.ToString(CultureInfo.InvariantCulture) : null;

    public object? EntityMessage(object message) => message is IReplicationMessage ? message : null;

    public string? ShardId(object message) => EntityId(message);

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
