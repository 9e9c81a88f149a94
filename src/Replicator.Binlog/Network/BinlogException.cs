namespace Replicator.Binlog.Network;

/// <summary>A failure to reach, authenticate to, or read from a source. The message is one line that names the problem and what to do.</summary>
public class BinlogException : Exception
{
    public BinlogException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>True when retrying may help (network, server restart); false for credentials, privileges and configuration.</summary>
    public virtual bool IsTransient => true;
}
