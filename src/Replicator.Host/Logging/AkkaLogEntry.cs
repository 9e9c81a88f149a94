using System.Collections;
using System.Globalization;
using Akka.Event;

namespace Replicator.Host.Logging;

/// <summary>
/// The state of a log entry that came from Akka: its message, and the event's source (the actor
/// path or <c>Type (akka://system)</c>), thread and time as fields, which the JSON format writes
/// under <c>State</c>. The text format writes <see cref="Event"/> as Akka's own logger did.
/// </summary>
internal sealed class AkkaLogEntry(LogEvent logEvent) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public LogEvent Event { get; } = logEvent;

    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("LogSource", Event.LogSource),
        1 => new("Thread", Event.Thread.ManagedThreadId),
        2 => new("Timestamp", Event.Timestamp.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The message alone (what <c>State.Message</c> and <c>Message</c> show in JSON).</summary>
    public override string ToString() => Event.Message?.ToString() ?? "";
}
