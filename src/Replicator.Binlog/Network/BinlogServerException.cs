namespace Replicator.Binlog.Network;

/// <summary>The server answered with an ERR packet (missing privilege, purged binlog, bad server_id, …).</summary>
public sealed class BinlogServerException : BinlogException
{
    public BinlogServerException(int errorCode, string sqlState, string serverMessage, string message)
        : base(message)
    {
        ErrorCode = errorCode;
        SqlState = sqlState;
        ServerMessage = serverMessage;
    }

    public int ErrorCode { get; }

    public string SqlState { get; }

    /// <summary>The server's own text.</summary>
    public string ServerMessage { get; }

    /// <summary>Privilege (1227, 1045, 1044, 1142) and configuration errors will not go away by retrying.</summary>
    public override bool IsTransient => ErrorCode is not (1045 or 1044 or 1227 or 1142 or 1236 or 1193);
}
