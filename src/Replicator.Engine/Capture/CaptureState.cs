namespace Replicator.Engine.Capture;

/// <summary>What a capture is doing, as <c>/status</c> and <c>replicator status</c> show it.</summary>
public enum CaptureState
{
    /// <summary>Recovering its offset, before the first read.</summary>
    Starting,

    /// <summary>Reading its source.</summary>
    Reading,

    /// <summary>Reading, with one or more tables paused (their changes held back, the offset held before them).</summary>
    TablePaused,

    /// <summary>Its reader failed; it reads again after a backoff.</summary>
    BackingOff,
}

public static class CaptureStates
{
    /// <summary>The state's text in <c>/status</c> and on the wire; these strings are a public format and never change.</summary>
    public static string Text(this CaptureState state) => state switch
    {
        CaptureState.Starting => "starting",
        CaptureState.Reading => "reading",
        CaptureState.TablePaused => "reading, table paused",
        CaptureState.BackingOff => "backing-off",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a capture state"),
    };

    /// <summary>The state a <see cref="Text"/> names (a status from another node of this release or an earlier one).</summary>
    public static CaptureState Parse(string text) => text switch
    {
        "starting" => CaptureState.Starting,
        "reading" => CaptureState.Reading,
        "reading, table paused" => CaptureState.TablePaused,
        "backing-off" => CaptureState.BackingOff,
        _ => throw new FormatException($"'{text}' is not a capture state (starting, reading, 'reading, table paused', backing-off)."),
    };
}
