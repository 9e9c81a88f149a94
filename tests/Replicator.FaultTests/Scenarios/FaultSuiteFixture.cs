using Replicator.FaultTests.Harness;

namespace Replicator.FaultTests.Scenarios;

/// <summary>Removes the run's temporary server directories once every scenario is done.</summary>
public sealed class FaultSuiteFixture : IDisposable
{
    public void Dispose() => FaultRunDirectory.DeleteRoot();
}
