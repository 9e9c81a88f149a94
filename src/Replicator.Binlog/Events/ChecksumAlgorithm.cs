namespace Replicator.Binlog.Events;

/// <summary>binlog_checksum: the algorithm byte at the end of a FORMAT_DESCRIPTION_EVENT.</summary>
public enum ChecksumAlgorithm : byte
{
    None = 0,
    Crc32 = 1,
    Undefined = 255,
}
