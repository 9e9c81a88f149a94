namespace Replicator.Binlog.Network;

/// <summary>The server could not be reached, or the connection dropped or went silent.</summary>
public sealed class BinlogConnectionException : BinlogException
{
    public BinlogConnectionException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
