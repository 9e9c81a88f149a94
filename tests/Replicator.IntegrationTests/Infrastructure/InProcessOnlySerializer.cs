using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Serialization;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>
/// For <c>akka.actor.serialize-messages = on</c> in tests. With it, every message sent between
/// actors is serialized and deserialized with the serializer bound to its type, so Replicator's
/// wire messages and Akka's own remoting messages round-trip through their real serializers even
/// inside one process. Types with no serializer of their own would fall to Akka's default JSON
/// serializer, which mangles Akka's in-process internals (singleton hand-over state, persistence
/// plugin replies holding a Task) and would hide a Replicator type that lacks its binding; this
/// serializer takes that default place and passes such objects through by reference instead.
/// Replicator's own types are checked by their binding (and by a test that every wire type has one).
/// </summary>
public sealed class InProcessOnlySerializer(ExtendedActorSystem system) : Serializer(system)
{
    private static readonly ConcurrentDictionary<Guid, object> Objects = new();

    public override int Identifier => 98765;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj)
    {
        var id = Guid.NewGuid();
        Objects[id] = obj;
        return id.ToByteArray();
    }

    public override object FromBinary(byte[] bytes, Type? type) =>
        Objects.TryRemove(new Guid(bytes), out var obj) ? obj : throw new InvalidOperationException("The object was not serialized in this process.");

    /// <summary>The HOCON that binds the plugin's in-process messages to this serializer.</summary>
    public const string Config = """
        akka.actor.serialize-messages = on
        akka.actor.serializers.in-process-only = "Replicator.IntegrationTests.Infrastructure.InProcessOnlySerializer, Replicator.IntegrationTests"
        akka.actor.serialization-bindings {
          "System.Object" = in-process-only
        }
        """;
}
