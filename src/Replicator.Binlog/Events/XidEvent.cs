namespace Replicator.Binlog.Events;

/// <summary>XID_EVENT: the commit of a transaction on a transactional engine.</summary>
public sealed record XidEvent(EventHeader Header, string File, ulong Xid) : BinlogEvent(Header, File);
