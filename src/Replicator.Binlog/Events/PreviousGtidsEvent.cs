using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Events;

/// <summary>MySQL PREVIOUS_GTIDS_LOG_EVENT: the GTIDs executed before this binlog file.</summary>
public sealed record PreviousGtidsEvent(EventHeader Header, string File, MySqlGtidSet Gtids) : BinlogEvent(Header, File);
