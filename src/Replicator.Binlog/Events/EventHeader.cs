namespace Replicator.Binlog.Events;

/// <summary>
/// The 19-byte common header of every binlog event (binlog version 4):
/// timestamp(4) type(1) server_id(4) event_size(4) log_pos(4) flags(2), little-endian.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
/// </summary>
/// <param name="NextPosition">log_pos: the position of the next event in the file; 0 for events inside a TRANSACTION_PAYLOAD and for artificial events.</param>
public readonly record struct EventHeader(
    uint Timestamp,
    BinlogEventType Type,
    uint ServerId,
    uint EventSize,
    uint NextPosition,
    ushort Flags)
{
    public const int Size = 19;

    /// <summary>LOG_EVENT_ARTIFICIAL_F: the server made this event up (the fake ROTATE at dump start).</summary>
    public bool IsArtificial => (Flags & 0x0020) != 0;

    /// <summary>Where this event starts in its file, or 0 when unknown.</summary>
    public long Position => NextPosition == 0 ? 0 : (long)NextPosition - EventSize;
}
