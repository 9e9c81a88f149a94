namespace Replicator.Binlog.Network;

/// <summary>The server's handshake: version text and connection id.</summary>
public sealed record ServerInfo(string Version, uint ConnectionId)
{
    public bool IsMariaDb => Version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
}
