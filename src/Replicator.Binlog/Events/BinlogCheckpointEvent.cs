namespace Replicator.Binlog.Events;

/// <summary>MariaDB BINLOG_CHECKPOINT_EVENT: crash recovery needs binlogs from <paramref name="CheckpointFile"/> on.</summary>
public sealed record BinlogCheckpointEvent(EventHeader Header, string File, string CheckpointFile) : BinlogEvent(Header, File);
