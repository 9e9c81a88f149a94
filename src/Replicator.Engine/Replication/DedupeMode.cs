namespace Replicator.Engine.Replication;

/// <summary>How a bucket coalesces the changes waiting for one pk.</summary>
public enum DedupeMode
{
    /// <summary>The newest row image per pk wins; older waiting images are dropped (and acked with it).</summary>
    Row,

    /// <summary>meepo's model: the job gets pks only and reads the current row from the source itself.</summary>
    Pk,

    /// <summary>No coalescing: every change is applied, in source order per pk.</summary>
    EveryChange,
}
