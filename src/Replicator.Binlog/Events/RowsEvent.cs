using Replicator.Binlog.Columns;

namespace Replicator.Binlog.Events;

/// <summary>
/// WRITE/UPDATE/DELETE_ROWS (v0, v1, v2, MariaDB compressed) and PARTIAL_UPDATE_ROWS, decoded with
/// the table's current schema.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rows__event.html
/// </summary>
/// <param name="Flags">Rows event flags; bit 0 (STMT_END_F) ends a statement.</param>
public sealed record RowsEvent(
    EventHeader Header,
    string File,
    RowsEventKind Kind,
    ulong TableId,
    TableSchema Table,
    ushort Flags,
    IReadOnlyList<RowImage> Rows) : BinlogEvent(Header, File)
{
    public bool IsStatementEnd => (Flags & 0x0001) != 0;

    /// <summary>The partition the rows belong to, from a v2 event's extra row info (MySQL 8 PART_INFO), else null.</summary>
    public int? PartitionId { get; init; }

    /// <summary>For an UPDATE that moved rows between partitions, the partition they came from, else null.</summary>
    public int? SourcePartitionId { get; init; }

    /// <summary>True for a PARTIAL_UPDATE_ROWS event, whose JSON columns may hold <see cref="Columns.ValueKind.JsonDiff"/> values.</summary>
    public bool IsPartialUpdate => Header.Type == BinlogEventType.PartialUpdateRows;
}
