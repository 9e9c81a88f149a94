namespace Replicator.Binlog.Network;

/// <summary>The server refused the user name or password, or the authentication plugin cannot be used.</summary>
public sealed class BinlogAuthenticationException : BinlogException
{
    public BinlogAuthenticationException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public override bool IsTransient => false;
}
