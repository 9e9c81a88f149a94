namespace Replicator.Engine.Offsets;

/// <summary>
/// The server whose binlog an offset's file and position refer to: its <c>@@server_id</c>, and on
/// MySQL its <c>@@server_uuid</c> (kept in the data directory, so it differs on every other server,
/// restored copies aside). File positions mean nothing on another server: a capture resumes there
/// only by GTID.
/// </summary>
/// <param name="Endpoint">host:port the capture reached the server at; for messages, not compared.</param>
public sealed record SourceServer(uint ServerId, string? Uuid, string Endpoint)
{
    /// <summary>True when both name the same server: the same server_id and, where both have one, the same uuid.</summary>
    public bool IsSameServerAs(SourceServer other) =>
        ServerId == other.ServerId && (Uuid is null || other.Uuid is null || string.Equals(Uuid, other.Uuid, StringComparison.OrdinalIgnoreCase));

    public override string ToString() =>
        Uuid is null ? $"server_id {ServerId} at {Endpoint}" : $"server_id {ServerId} (server_uuid {Uuid}) at {Endpoint}";
}
