namespace Replicator.Binlog.Network;

/// <summary>The server answered with an ERR packet (missing privilege, purged binlog, bad server_id, …).</summary>
public sealed class BinlogServerException : BinlogException
{
    public BinlogServerException(int errorCode, string sqlState, string serverMessage, string message, bool serverIdCollision = false)
        : base(message)
    {
        ErrorCode = errorCode;
        SqlState = sqlState;
        ServerMessage = serverMessage;
        IsServerIdCollision = serverIdCollision;
    }

    /// <summary>Another replica holds this reader's server_id (MariaDB 4052, MySQL 1236 "same server_uuid/server_id").</summary>
    public bool IsServerIdCollision { get; }

    public int ErrorCode { get; }

    public string SqlState { get; }

    /// <summary>The server's own text.</summary>
    public string ServerMessage { get; }

    /// <summary>
    /// Privilege (1227, 1045, 1044, 1142) and configuration errors will not go away by retrying; nor
    /// does a server_id another replica holds (4052), and retrying it soon would evict that replica in turn.
    /// </summary>
    public override bool IsTransient => !IsServerIdCollision && ErrorCode is not (1045 or 1044 or 1227 or 1142 or 1236 or 1193 or 4052);
}
