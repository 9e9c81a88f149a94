using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Events;

/// <summary>MariaDB GTID_LIST_EVENT: the GTID state at the start of a binlog file. https://mariadb.com/kb/en/gtid_list_event/</summary>
public sealed record GtidListEvent(EventHeader Header, string File, IReadOnlyList<MariaDbGtid> Gtids) : BinlogEvent(Header, File);
