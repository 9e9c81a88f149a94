namespace Replicator.Engine.Configuration;

/// <summary>
/// Where a node configured with <c>replicator.testing.crash-at</c> exits at once (the fault suite's
/// crash points, as MySQL's replica crash-safety tests have them). Test instrumentation only.
/// </summary>
public enum CrashPoint
{
    /// <summary>Never crash (the default).</summary>
    None,

    /// <summary>A bucket's job returned success for a batch, before the bucket acknowledges it.</summary>
    AfterApply,

    /// <summary>A bucket has just sent an acknowledgement to the capture (it may not have left the process).</summary>
    AfterAck,

    /// <summary>The capture is about to persist an offset.</summary>
    BeforePersist,

    /// <summary>The capture has just persisted an offset.</summary>
    AfterPersist,

    /// <summary>The dead-letter store persisted a letter, before it tells the bucket.</summary>
    AfterDeadLetter,
}
