namespace Replicator.IntegrationTests;

/// <summary>Integration tests share the local servers and the machine's two cores: they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerCollection
{
    public const string Name = "servers";
}
