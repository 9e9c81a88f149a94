namespace Replicator.Binlog.Events;

/// <summary>
/// FORMAT_DESCRIPTION_EVENT: the server version, the post-header length of each event type, and
/// the checksum algorithm of the events that follow.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Format__description__event.html
/// </summary>
public sealed record FormatDescriptionEvent(
    EventHeader Header,
    string File,
    ushort BinlogVersion,
    string ServerVersion,
    uint CreateTimestamp,
    byte CommonHeaderLength,
    byte[] PostHeaderLengths,
    ChecksumAlgorithm Checksum) : BinlogEvent(Header, File)
{
    /// <summary>True when the server that wrote the file is MariaDB.</summary>
    public bool IsMariaDb => ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    /// <summary>The post-header length for an event type, 0 when the FDE does not list it.</summary>
    public int PostHeaderLength(BinlogEventType type)
    {
        var index = (int)type - 1;
        return index >= 0 && index < PostHeaderLengths.Length ? PostHeaderLengths[index] : 0;
    }
}
