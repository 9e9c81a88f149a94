namespace Replicator.Engine.Capture;

/// <summary>A captured table has no primary key and no key columns are configured for it.</summary>
public sealed class MissingKeyException : Exception
{
    public MissingKeyException(string table, string message)
        : base(message)
    {
        Table = table;
    }

    /// <summary>The table as <c>schema.table</c>.</summary>
    public string Table { get; }
}
