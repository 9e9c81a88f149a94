namespace Replicator.Binlog.Events;

/// <summary>MariaDB ANNOTATE_ROWS_EVENT: the SQL text of the statement whose rows follow. https://mariadb.com/kb/en/annotate_rows_event/</summary>
public sealed record AnnotateRowsEvent(EventHeader Header, string File, string Sql) : BinlogEvent(Header, File);
