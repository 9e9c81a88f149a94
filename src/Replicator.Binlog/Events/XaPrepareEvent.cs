namespace Replicator.Binlog.Events;

/// <summary>
/// XA_PREPARE_LOG_EVENT (38; MySQL 5.7.7+, MariaDB 10.5+): ends the event group of an XA
/// transaction's <c>XA PREPARE</c>, whose outcome a later group (<c>XA COMMIT</c> or
/// <c>XA ROLLBACK</c>) decides; or, when <paramref name="OnePhase"/>, ends the group of an
/// <c>XA COMMIT … ONE PHASE</c>, which is committed with it.
/// https://mariadb.com/kb/en/xa_prepare_log_event/ and
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1XA__prepare__event.html
/// </summary>
public sealed record XaPrepareEvent(EventHeader Header, string File, bool OnePhase, XaId Xid) : BinlogEvent(Header, File);
