namespace Replicator.Binlog.Events;

/// <summary>A decoded binlog event and the file it was read from.</summary>
/// <param name="Header">The common header.</param>
/// <param name="File">The binlog file name the event belongs to (the outer file for events inside a TRANSACTION_PAYLOAD).</param>
public abstract record BinlogEvent(EventHeader Header, string File)
{
    public BinlogEventType Type => Header.Type;
}
