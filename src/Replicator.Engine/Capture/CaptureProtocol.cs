using Replicator.Engine.Offsets;
using Replicator.Engine.Serialization;

namespace Replicator.Engine.Capture;

/// <summary>Messages a capture accepts from outside.</summary>
public interface ICaptureCommand : IReplicatorWireMessage
{
}

/// <summary>Asks a capture for its <see cref="CaptureStatus"/>.</summary>
public sealed record GetCaptureStatus : ICaptureCommand
{
    public static GetCaptureStatus Instance { get; } = new();
}

/// <summary>What a capture is doing: its state, offsets, and counts since it started.</summary>
/// <param name="State">starting, reading, backing-off or failed.</param>
/// <param name="LastCommitUtc">When the newest captured transaction was committed on the source.</param>
public sealed record CaptureStatus(
    string Source,
    CaptureState State,
    string Epoch,
    SourceOffset? PersistedOffset,
    SourceOffset? CurrentOffset,
    long ChangesCaptured,
    long Outstanding,
    long Reconnects,
    string? LastError,
    DateTime? LastCommitUtc) : IReplicatorWireMessage;

/// <summary>Persisted: the capture's offset moved.</summary>
public sealed record OffsetCommitted(SourceOffset Offset) : IReplicatorWireMessage;

/// <summary>A snapshot of the capture's persisted state.</summary>
public sealed record CaptureSnapshot(SourceOffset Offset) : IReplicatorWireMessage;
