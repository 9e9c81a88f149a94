using System.Globalization;
using Replicator.Engine.Configuration;
using Replicator.Engine.Serialization;

namespace Replicator.Engine.Replication;

/// <summary>
/// Keeps a dead letter small enough to be stored and sent between nodes, whatever its sink said.
/// A sink's error can be any length (a Redis or SQL error that echoes a huge value): it is cut to
/// <see cref="MaxErrorChars"/> characters, keeping its start, and further when the letter's change
/// is so large that letter and error would not fit in one message (<see cref="CaptureSettings.MaxChangeBytes"/>,
/// the same bound a change meets to be delivered at all). The cut is marked with the number of
/// characters removed. Pure, for tests.
/// </summary>
public static class DeadLetterBounds
{
    /// <summary>The longest error text a dead letter (and a bucket's log line) carries.</summary>
    public const int MaxErrorChars = 8 * 1024;

    /// <summary>What a letter needs besides its change and its error text: the bucket, the attempts, both failure times.</summary>
    private const long LetterFields = 4 + 4 + 8 + 8;

    /// <summary>
    /// <paramref name="error"/> as at most <paramref name="maxChars"/> characters: itself when it is that
    /// short, else its start followed by a marker that says how many characters were cut. A marker
    /// alone may be longer than a tiny <paramref name="maxChars"/>: the count is never dropped.
    /// </summary>
    public static string Error(string error, int maxChars = MaxErrorChars)
    {
        if (error.Length <= maxChars)
        {
            return error;
        }

        // The marker's own length depends on the count it states; the longest count bounds it.
        var keep = Math.Max(0, maxChars - Marker(error.Length).Length);
        if (keep > 0 && char.IsHighSurrogate(error[keep - 1]))
        {
            keep--;
        }

        return error[..keep] + Marker(error.Length - keep);
    }

    /// <summary>
    /// The letter with its error cut so that the whole letter takes at most <paramref name="maxBytes"/>
    /// estimated wire bytes, if its change leaves room for any error text; never more than
    /// <see cref="MaxErrorChars"/> characters of it. The change itself is kept whole: it fitted in a
    /// delivery of at most the same bound.
    /// </summary>
    public static DeadLetterParked Fit(DeadLetterParked letter, long maxBytes)
    {
        var room = maxBytes - EstimatedSizeWithoutError(letter) - 5;

        // A char takes at most 3 UTF-8 bytes (a surrogate pair, 2 chars, takes 4).
        var maxChars = (int)Math.Clamp(room / 3, 0, MaxErrorChars);
        var error = Error(letter.Error, maxChars);
        return ReferenceEquals(error, letter.Error) ? letter : letter with { Error = error };
    }

    /// <summary>An upper bound of the bytes the letter takes on the wire (as <see cref="WireFormat.EstimatedSize(Model.RowChange)"/> bounds a change).</summary>
    public static long EstimatedSize(DeadLetterParked letter) => EstimatedSizeWithoutError(letter) + WireFormat.EstimatedSize(letter.Error);

    private static long EstimatedSizeWithoutError(DeadLetterParked letter) =>
        WireFormat.EstimatedSize(letter.Definition) + WireFormat.EstimatedSize(letter.Change) + LetterFields;

    private static string Marker(int cut) => $" [… {cut.ToString("N0", CultureInfo.InvariantCulture)} more characters cut]";
}
