using Replicator.Binlog.Columns;

namespace Replicator.Binlog.Events;

/// <summary>
/// TABLE_MAP_EVENT: binds a table id to a table and its column types for the rows events that follow.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
/// </summary>
/// <param name="ColumnTypes">The raw type bytes.</param>
/// <param name="ColumnMetadata">
/// The per-column metadata word, one int per column read from the metadata block: 1-byte fields as
/// is, VARCHAR's 2 bytes little-endian, and the two separate bytes of NEWDECIMAL (precision, scale),
/// BIT (bits, bytes) and STRING/ENUM/SET (real type, length) as first byte &lt;&lt; 8 | second byte.
/// <see cref="Schema"/>'s column definitions hold the fully unpacked form.
/// </param>
/// <param name="Nullable">The null-bitmap of column definitions.</param>
/// <param name="Optional">The optional metadata fields (binlog_row_metadata), when present.</param>
/// <param name="Schema">The table as the decoder uses it: built from the map and completed by an <see cref="ITableSchemaSource"/>.</param>
public sealed record TableMapEvent(
    EventHeader Header,
    string File,
    ulong TableId,
    string Database,
    string Table,
    ColumnType[] ColumnTypes,
    int[] ColumnMetadata,
    bool[] Nullable,
    TableMapOptionalMetadata Optional,
    TableSchema Schema) : BinlogEvent(Header, File);
