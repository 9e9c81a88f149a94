namespace Replicator.Binlog.Network;

/// <summary>
/// The options or the source's configuration make reading impossible: binary logging off, an
/// invalid option, a certificate that fails verification, a start position the server cannot
/// serve. Retrying will not help until someone changes the configuration.
/// </summary>
public sealed class BinlogConfigurationException : BinlogException
{
    public BinlogConfigurationException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public override bool IsTransient => false;
}
