namespace Replicator.FaultTests.Scenarios;

/// <summary>
/// The fault scenarios run one at a time: each starts its own servers and a three-node cluster on
/// a two-core machine. The fixture removes the run's temporary server directories at the end.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection : ICollectionFixture<FaultSuiteFixture>
{
    public const string Name = "faults";
}
