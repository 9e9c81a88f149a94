namespace Replicator.FaultTests.Harness;

/// <summary>A node's replicator.testing.crash-at: exit at once the <paramref name="Occurrence"/>-th time it reaches <paramref name="Point"/> (after-apply, after-ack, before-persist, after-persist, after-dead-letter).</summary>
public sealed record NodeCrash(string Point, int Occurrence);
