using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Protocol;
using Replicator.Binlog.Vendors.MariaDb;
using Replicator.Binlog.Vendors.MySql;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// Rows events. Post-header: table_id(6, or 4 when the post-header is 6 bytes) flags(2); the v2
/// types (30-32, 39, MariaDB 169-171) add extra_data_length(2, counting itself) and extra row info.
/// Body: column count (packed), the columns-present bitmap, for UPDATE a second one for the after
/// image, then rows: for each image a NULL bitmap over its present columns and the non-NULL cells.
/// In PARTIAL_UPDATE_ROWS the after image starts with value_options (packed); bit 0
/// (PARTIAL_JSON_UPDATES) adds a bitmap with one bit per JSON column of the table, and a JSON cell
/// whose bit is set holds a diff vector instead of a document.
/// MariaDB's compressed rows events compress everything after the bitmaps as one record.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rows__event.html
/// https://mariadb.com/kb/en/rows_event_v1v2-rows_compressed_event_v1/
/// </summary>
public sealed partial class BinlogEventDecoder
{
    private const ulong PartialJsonUpdates = 1;

    private List<RowImage> _rowScratch = new();

    // The table id of an empty statement-closing rows event (~0 in 6 bytes; 3 bytes on old servers).
    private const ulong DummyTableId = 0xFFFF_FFFF_FFFF;
    private const ulong DummyTableId24 = 0xFF_FFFF;

    // Extra row info tags (enum_extra_row_info_typecode).
    private const byte ExtraRowInfoNdb = 0;
    private const byte ExtraRowInfoPartition = 1;

    private RowsEvent DecodeRows(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var type = header.Type;
        var (kind, hasExtraData, compressed) = Classify(type);
        var postHeader = PostHeaderLength(type, hasExtraData ? 10 : 8);
        var reader = new ByteReader(body);
        var tableId = postHeader == 6 ? reader.ReadUInt32() : reader.ReadUInt48();
        var flags = reader.ReadUInt16();

        int? partition = null;
        int? sourcePartition = null;
        if (hasExtraData)
        {
            var extraLength = reader.ReadUInt16();
            if (extraLength < 2)
            {
                throw new FormatException($"A rows event's extra data length {extraLength} is below its own 2 bytes.");
            }

            ReadExtraRowInfo(reader.ReadBytes(extraLength - 2), kind == RowsEventKind.Update, ref partition, ref sourcePartition);
        }

        var width = reader.ReadLengthEncodedInteger();
        if (width > MaxColumns)
        {
            throw new FormatException($"A rows event declares {width} columns, more than MySQL's {MaxColumns}.");
        }

        var columnCount = (int)width;
        var beforeColumns = reader.ReadBytes((columnCount + 7) / 8);
        var afterColumns = kind == RowsEventKind.Update ? reader.ReadBytes((columnCount + 7) / 8) : beforeColumns;

        ReadOnlySpan<byte> rowData = compressed
            ? MariaDbCompression.Decompress(reader.ReadToEnd(), Options.MaxDecompressedSize)
            : reader.ReadToEnd();

        if (!_tables.TryGetValue(tableId, out var table))
        {
            if (rowData.IsEmpty && tableId is DummyTableId or DummyTableId24)
            {
                // An empty rows event that only closes a statement names the dummy table id.
                return new RowsEvent(header, file, kind, tableId, EmptySchema, flags, []);
            }

            throw new FormatException($"Table id {tableId} has no TABLE_MAP in this binlog (or it was reset by a ROTATE/FORMAT_DESCRIPTION); its rows cannot be attributed to a table.");
        }

        if (columnCount != table.ColumnCount)
        {
            throw new FormatException($"The rows event has {columnCount} columns but the TABLE_MAP of {table.Map.Database}.{table.Map.Table} (id {tableId}) has {table.ColumnCount}.");
        }

        var rows = ReadRows(rowData, table, type, kind, beforeColumns, afterColumns);
        return new RowsEvent(header, file, kind, tableId, table.Schema, flags, rows)
        {
            PartitionId = partition,
            SourcePartitionId = sourcePartition,
        };
    }

    private static readonly TableSchema EmptySchema = new(string.Empty, string.Empty, [], []);

    private static (RowsEventKind Kind, bool HasExtraData, bool Compressed) Classify(BinlogEventType type) => type switch
    {
        BinlogEventType.WriteRowsV0 or BinlogEventType.WriteRowsV1 => (RowsEventKind.Write, false, false),
        BinlogEventType.UpdateRowsV0 or BinlogEventType.UpdateRowsV1 => (RowsEventKind.Update, false, false),
        BinlogEventType.DeleteRowsV0 or BinlogEventType.DeleteRowsV1 => (RowsEventKind.Delete, false, false),
        BinlogEventType.WriteRowsV2 => (RowsEventKind.Write, true, false),
        BinlogEventType.UpdateRowsV2 or BinlogEventType.PartialUpdateRows => (RowsEventKind.Update, true, false),
        BinlogEventType.DeleteRowsV2 => (RowsEventKind.Delete, true, false),
        BinlogEventType.WriteRowsCompressedV1 => (RowsEventKind.Write, false, true),
        BinlogEventType.UpdateRowsCompressedV1 => (RowsEventKind.Update, false, true),
        BinlogEventType.DeleteRowsCompressedV1 => (RowsEventKind.Delete, false, true),
        BinlogEventType.WriteRowsCompressed => (RowsEventKind.Write, true, true),
        BinlogEventType.UpdateRowsCompressed => (RowsEventKind.Update, true, true),
        BinlogEventType.DeleteRowsCompressed => (RowsEventKind.Delete, true, true),
        _ => throw new FormatException($"Event type {type} is not a rows event."),
    };

    /// <summary>
    /// Extra row info of v2 events (MySQL 8 <c>Rows_event::Extra_row_info</c>): tag 0 (NDB) is a
    /// block whose first byte is its own length; tag 1 (PART) is the partition id (2), and for
    /// updates the source partition id (2).
    /// </summary>
    private static void ReadExtraRowInfo(ReadOnlySpan<byte> extra, bool isUpdate, ref int? partition, ref int? sourcePartition)
    {
        var reader = new ByteReader(extra);
        while (!reader.IsAtEnd)
        {
            switch (reader.ReadByte())
            {
                case ExtraRowInfoNdb:
                {
                    var length = reader.PeekByte();
                    reader.Skip(Math.Max((int)length, 1));
                    break;
                }

                case ExtraRowInfoPartition:
                    partition = reader.ReadUInt16();
                    if (isUpdate)
                    {
                        sourcePartition = reader.ReadUInt16();
                    }

                    break;
                default:
                    // An unknown tag: nothing after it can be located, and none of it changes the rows.
                    return;
            }
        }
    }

    /// <summary>The rows of an event as an array of their exact number, collected in <see cref="_rowScratch"/>.</summary>
    private RowImage[] ReadRows(
        ReadOnlySpan<byte> data,
        TableState table,
        BinlogEventType type,
        RowsEventKind kind,
        ReadOnlySpan<byte> beforeColumns,
        ReadOnlySpan<byte> afterColumns)
    {
        var before = PresentOrdinals(beforeColumns, table);
        var after = kind == RowsEventKind.Update ? PresentOrdinals(afterColumns, table) : before;
        var partial = type == BinlogEventType.PartialUpdateRows;
        var reader = new ByteReader(data);
        var rows = _rowScratch;
        rows.Clear();
        // For an update, where each cell of the before image lies in the row data (start, length;
        // -1 when the image has no value there), so that an after-image cell with the same bytes
        // takes the before image's value instead of being decoded again.
        var cells = kind != RowsEventKind.Update ? default
            : table.ColumnCount <= MaxStackCells ? stackalloc int[2 * table.ColumnCount]
            : new int[2 * table.ColumnCount];
        while (!reader.IsAtEnd)
        {
            var start = reader.Offset;
            try
            {
                switch (kind)
                {
                    case RowsEventKind.Write:
                        rows.Add(new RowImage(null, ReadImage(ref reader, data, table, before, partialAfter: false, default, null)));
                        break;
                    case RowsEventKind.Delete:
                        rows.Add(new RowImage(ReadImage(ref reader, data, table, before, partialAfter: false, default, null), null));
                        break;
                    default:
                        cells.Fill(-1);
                        var beforeImage = ReadImage(ref reader, data, table, before, partialAfter: false, cells, null);
                        rows.Add(new RowImage(beforeImage, ReadImage(ref reader, data, table, after, partialAfter: partial, cells, beforeImage)));
                        break;
                }
            }
            catch (FormatException e)
            {
                throw new FormatException($"Row {rows.Count + 1} (at offset {start} of the row data) of {table.Schema}: {e.Message}", e);
            }
        }

        var result = rows.ToArray();
        if (rows.Capacity > MaxRetainedRows)
        {
            // A big event's list is not kept for the next one.
            _rowScratch = new List<RowImage>();
        }

        return result;
    }

    /// <summary>The most rows <see cref="_rowScratch"/> keeps room for between events.</summary>
    private const int MaxRetainedRows = 4096;

    /// <summary>The widest table whose update cell positions are kept on the stack (2 ints a column).</summary>
    private const int MaxStackCells = 256;

    /// <summary>The ordinals of the columns a row image holds; every column (a full image) shares one array per table.</summary>
    private static int[] PresentOrdinals(ReadOnlySpan<byte> bitmap, TableState table)
    {
        var columnCount = table.ColumnCount;
        var count = 0;
        for (var i = 0; i < columnCount; i++)
        {
            if ((bitmap[i >> 3] & (1 << (i & 7))) != 0)
            {
                count++;
            }
        }

        if (count == columnCount)
        {
            return table.AllOrdinals;
        }

        var ordinals = new int[count];
        var k = 0;
        for (var i = 0; i < columnCount; i++)
        {
            if ((bitmap[i >> 3] & (1 << (i & 7))) != 0)
            {
                ordinals[k++] = i;
            }
        }

        return ordinals;
    }

    /// <summary>
    /// Reads one row image. With <paramref name="previous"/> null (a write, a delete, the before
    /// image of an update), notes in <paramref name="cells"/> where each of its non-NULL cells lies,
    /// when given. With <paramref name="previous"/> (the after image of an update), a cell whose
    /// bytes are those of the before image's cell of the same column gets the before image's value:
    /// decoding reads a cell's bytes and nothing else, so the same bytes decode to the same value.
    /// Values holding a byte array are decoded again rather than shared between the images.
    /// </summary>
    private static ColumnValue[] ReadImage(
        ref ByteReader reader,
        ReadOnlySpan<byte> data,
        TableState table,
        int[] present,
        bool partialAfter,
        scoped Span<int> cells,
        ColumnValue[]? previous)
    {
        ReadOnlySpan<byte> partialBits = default;
        if (partialAfter)
        {
            var options = reader.ReadLengthEncodedInteger();
            if ((options & PartialJsonUpdates) != 0)
            {
                partialBits = reader.ReadBytes((table.JsonColumnCount + 7) / 8);
            }
        }

        var nulls = reader.ReadBytes((present.Length + 7) / 8);
        var values = new ColumnValue[table.ColumnCount];
        var layouts = table.Layouts;
        var noteCells = previous is null && !cells.IsEmpty;
        for (var p = 0; p < present.Length; p++)
        {
            var column = present[p];
            if ((nulls[p >> 3] & (1 << (p & 7))) != 0)
            {
                values[column] = ColumnValue.Null;
                continue;
            }

            var layout = layouts[column];
            if (!partialBits.IsEmpty && layout.Codec == ColumnCodec.Json)
            {
                var jsonOrdinal = table.JsonOrdinals[column];
                if ((partialBits[jsonOrdinal >> 3] & (1 << (jsonOrdinal & 7))) != 0)
                {
                    var length = ColumnDecoder.ReadLength(ref reader, layout.LengthBytes);
                    values[column] = ColumnValue.FromJsonDiff(MySqlJsonDiff.Read(reader.ReadBytes(length)));
                    continue;
                }
            }

            var cellStart = reader.Offset;
            if (previous is not null && cells[2 * column] >= 0)
            {
                var beforeCell = data.Slice(cells[2 * column], cells[(2 * column) + 1]);
                if (reader.RemainingSpan.StartsWith(beforeCell) && previous[column].IsShareable)
                {
                    values[column] = previous[column];
                    reader.Skip(beforeCell.Length);
                    continue;
                }
            }

            try
            {
                values[column] = ColumnDecoder.Decode(ref reader, layout);
            }
            catch (FormatException e)
            {
                throw new FormatException($"column {column + 1} ({table.Schema.Columns[column].Name}, {layout.Type}): {e.Message}", e);
            }

            if (noteCells)
            {
                cells[2 * column] = cellStart;
                cells[(2 * column) + 1] = reader.Offset - cellStart;
            }
        }

        return values;
    }
}
