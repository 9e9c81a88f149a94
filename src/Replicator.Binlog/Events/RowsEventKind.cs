namespace Replicator.Binlog.Events;

public enum RowsEventKind : byte
{
    Write,
    Update,
    Delete,
}
