namespace Replicator.Binlog.Columns;

/// <summary>
/// A partial JSON update cannot be applied to the document at hand: the path does not resolve,
/// an INSERT target already exists, or the document or path is not valid. It means the before image
/// is not the document the server changed, so the row must be re-read, never guessed.
/// </summary>
public sealed class JsonDiffException : InvalidOperationException
{
    public JsonDiffException(string message, JsonDiff? diff = null, Exception? inner = null)
        : base(diff is null ? message : $"{message} ({diff.Operation} {diff.Path})", inner)
    {
        Diff = diff;
    }

    /// <summary>The diff that could not be applied, when one was at fault.</summary>
    public JsonDiff? Diff { get; }
}
