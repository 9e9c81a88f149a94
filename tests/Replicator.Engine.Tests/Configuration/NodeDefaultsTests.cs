namespace Replicator.Engine.Tests.Configuration;

/// <summary>The Akka defaults embedded in the engine (akka-node.conf).</summary>
public sealed class NodeDefaultsTests
{
    [Fact]
    public void The_embedded_defaults_load_with_the_cluster_shape_and_a_local_address()
    {
        var defaults = ReplicatorNode.NodeDefaults;

        Assert.Equal("cluster", defaults.GetString("akka.actor.provider"));
        Assert.Equal("keep-majority", defaults.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal("ddata", defaults.GetString("akka.cluster.sharding.state-store-mode"));
        Assert.Equal(["capture", "worker"], defaults.GetStringList("akka.cluster.roles"));
        // REPLICATOR_HOSTNAME and REPLICATOR_PORT are unset here: the optional substitutions keep the defaults.
        Assert.Equal(Environment.GetEnvironmentVariable("REPLICATOR_HOSTNAME") ?? "127.0.0.1", defaults.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(int.Parse(Environment.GetEnvironmentVariable("REPLICATOR_PORT") ?? "0", System.Globalization.CultureInfo.InvariantCulture), defaults.GetInt("akka.remote.dot-netty.tcp.port"));
    }
}
