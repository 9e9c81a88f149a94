namespace Replicator.Binlog.Events;

/// <summary>
/// MariaDB GTID_EVENT: starts an event group with GTID domain-server-sequence.
/// https://mariadb.com/kb/en/gtid_event/
/// </summary>
/// <param name="Flags2">FL_STANDALONE = 1 (no BEGIN/COMMIT follow), FL_GROUP_COMMIT_ID = 2, FL_TRANSACTIONAL = 4, FL_ALLOW_PARALLEL = 8, FL_WAITED = 16, FL_DDL = 32.</param>
public sealed record MariaDbGtidEvent(
    EventHeader Header,
    string File,
    uint DomainId,
    ulong Sequence,
    byte Flags2,
    ulong? CommitId) : BinlogEvent(Header, File)
{
    public Positions.MariaDbGtid Gtid => new(DomainId, Header.ServerId, Sequence);

    public bool IsStandalone => (Flags2 & 0x01) != 0;
}
