namespace Replicator.Binlog.Events;

/// <summary>
/// MariaDB GTID_EVENT: starts an event group with GTID domain-server-sequence.
/// https://mariadb.com/kb/en/gtid_event/
/// </summary>
/// <param name="Flags2">FL_STANDALONE = 1 (no BEGIN/COMMIT follow), FL_GROUP_COMMIT_ID = 2, FL_TRANSACTIONAL = 4, FL_ALLOW_PARALLEL = 8, FL_WAITED = 16, FL_DDL = 32, FL_PREPARED_XA = 64, FL_COMPLETED_XA = 128.</param>
/// <param name="Xid">The XA transaction the group prepares (FL_PREPARED_XA) or completes (FL_COMPLETED_XA), else null.</param>
public sealed record MariaDbGtidEvent(
    EventHeader Header,
    string File,
    uint DomainId,
    ulong Sequence,
    byte Flags2,
    ulong? CommitId,
    XaId? Xid = null) : BinlogEvent(Header, File)
{
    public const byte PreparedXaFlag = 0x40;
    public const byte CompletedXaFlag = 0x80;

    public Positions.MariaDbGtid Gtid => new(DomainId, Header.ServerId, Sequence);

    public bool IsStandalone => (Flags2 & 0x01) != 0;

    /// <summary>The group is an XA transaction's <c>XA PREPARE</c>: it ends with an <see cref="XaPrepareEvent"/>, and a later group decides its outcome.</summary>
    public bool IsPreparedXa => (Flags2 & PreparedXaFlag) != 0;

    /// <summary>The group is the <c>XA COMMIT</c> or <c>XA ROLLBACK</c> of an XA prepared earlier.</summary>
    public bool IsCompletedXa => (Flags2 & CompletedXaFlag) != 0;
}
