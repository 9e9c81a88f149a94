using System.Collections.Concurrent;
using Akka.Actor;
using StackExchange.Redis;

namespace Replicator.Engine.Jobs;

/// <summary>
/// One <see cref="ConnectionMultiplexer"/> per Redis configuration per node, shared by every job,
/// disposed when the actor system terminates. Connections use abortConnect=false so a Redis that
/// is down at start is retried in the background rather than failing the node, and keep key names
/// (pks) out of exception messages.
/// </summary>
public sealed class RedisConnections : IExtension, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ConnectionMultiplexer>> _connections = new();

    public RedisConnections(ActorSystem system)
    {
        system.RegisterOnTermination(Dispose);
    }

    public static RedisConnections Get(ActorSystem system) => system.WithExtension<RedisConnections, RedisConnectionsProvider>();

    public ConnectionMultiplexer Connect(string configuration) =>
        _connections.GetOrAdd(configuration, c => new Lazy<ConnectionMultiplexer>(() =>
        {
            var options = ConfigurationOptions.Parse(c);
            options.AbortOnConnectFail = false;
            options.IncludeDetailInExceptions = false;
            options.ClientName ??= "replicator";
            return ConnectionMultiplexer.Connect(options);
        })).Value;

    public void Dispose()
    {
        foreach (var connection in _connections.Values.Where(l => l.IsValueCreated))
        {
            connection.Value.Dispose();
        }

        _connections.Clear();
    }
}

public sealed class RedisConnectionsProvider : ExtensionIdProvider<RedisConnections>
{
    public override RedisConnections CreateExtension(ExtendedActorSystem system) => new(system);
}
