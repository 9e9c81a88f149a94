namespace Replicator.Binlog.Tests.Network;

/// <summary>The tests that share <see cref="NetworkThrowawayServerFixture"/> or start MariaDB processes of their own; they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetworkThrowawayCollection : ICollectionFixture<NetworkThrowawayServerFixture>
{
    public const string Name = "Network: throwaway MariaDB";
}
