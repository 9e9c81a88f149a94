namespace Replicator.Binlog.Parsers;

/// <summary>
/// An event that cannot be decoded: a malformed body, a checksum mismatch, a column type the
/// reader does not know. Names the binlog file and the event's position; never becomes a skipped row.
/// </summary>
public sealed class BinlogFormatException : FormatException
{
    public BinlogFormatException(string message, string? file, long position, Exception? inner = null)
        : base(Describe(message, file, position), inner)
    {
        File = file;
        Position = position;
    }

    public string? File { get; }

    public long Position { get; }

    private static string Describe(string message, string? file, long position) =>
        file is null ? message : $"{message} (binlog {file} at position {position})";
}
