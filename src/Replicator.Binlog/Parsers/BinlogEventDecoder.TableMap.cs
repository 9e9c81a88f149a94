using System.Globalization;
using System.Text;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// TABLE_MAP_EVENT. Post-header: table_id(6, or 4 when the post-header is 6 bytes) flags(2).
/// Body: schema (length byte, name, NUL), table (same), column count (packed), one type byte a
/// column, the metadata block (packed length, then each column's metadata), the nullability
/// bitmap, then the optional metadata as type(1) length(packed) value fields.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
/// https://mariadb.com/kb/en/table_map_event/
/// </summary>
public sealed partial class BinlogEventDecoder
{
    private const int MaxColumns = 4096;

    // Optional metadata field types (Table_map_event::Optional_metadata_field_type).
    private const byte Signedness = 1;
    private const byte DefaultCharset = 2;
    private const byte ColumnCharset = 3;
    private const byte ColumnName = 4;
    private const byte SetStrValue = 5;
    private const byte EnumStrValue = 6;
    private const byte GeometryType = 7;
    private const byte SimplePrimaryKey = 8;
    private const byte PrimaryKeyWithPrefix = 9;
    private const byte EnumAndSetDefaultCharset = 10;
    private const byte EnumAndSetColumnCharset = 11;
    private const byte ColumnVisibility = 12;
    private const byte VectorDimensionality = 13;

    private TableMapEvent DecodeTableMap(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var postHeader = PostHeaderLength(BinlogEventType.TableMap, 8);
        var reader = new ByteReader(body);
        var tableId = postHeader == 6 ? reader.ReadUInt32() : reader.ReadUInt48();
        if (_tables.TryGetValue(tableId, out var known) && known.SameMap(body))
        {
            // The same table map as before (a server writes one before every statement's rows):
            // reuse what was worked out from it, so rows keep one schema object and layout.
            if (!ReferenceEquals(known, known.Base))
            {
                _tables[tableId] = known.Base;
            }

            return known.Base.Map with { Header = header, File = file };
        }

        reader.ReadUInt16(); // flags, reserved
        reader.Skip(Math.Max(0, postHeader - (postHeader == 6 ? 6 : 8)));

        var database = ReadCountedName(ref reader);
        var table = ReadCountedName(ref reader);
        var count = reader.ReadLengthEncodedInteger();
        if (count > MaxColumns)
        {
            throw new FormatException($"A TABLE_MAP declares {count} columns, more than MySQL's {MaxColumns}.");
        }

        var columnCount = (int)count;
        var typeBytes = reader.ReadBytes(columnCount);
        var types = new ColumnType[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            types[i] = (ColumnType)typeBytes[i];
        }

        var metadataBlock = reader.ReadLengthEncodedBytes();
        var metadata = ReadColumnMetadata(metadataBlock, types);
        var nullBits = reader.ReadBytes((columnCount + 7) / 8);
        var nullable = new bool[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            nullable[i] = (nullBits[i >> 3] & (1 << (i & 7))) != 0;
        }

        var realTypes = new ColumnType[columnCount];
        var unpacked = new int[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            (realTypes[i], unpacked[i]) = ColumnLayout.Unpack(types[i], metadata[i]);
        }

        var optional = reader.IsAtEnd ? TableMapOptionalMetadata.Empty : ReadOptionalMetadata(reader.ReadToEnd(), realTypes);
        var schema = BuildSchema(database, table, realTypes, unpacked, nullable, optional);
        var map = new TableMapEvent(header, file, tableId, database, table, types, metadata, nullable, optional, schema);
        _tables[tableId] = TableState.Create(map, body);
        return map;
    }

    private static string ReadCountedName(ref ByteReader reader)
    {
        var length = reader.ReadByte();
        var name = Encoding.UTF8.GetString(reader.ReadBytes(length));
        if (reader.ReadByte() != 0)
        {
            throw new FormatException($"A TABLE_MAP name is not NUL-terminated (offset {reader.Offset - 1}).");
        }

        return name;
    }

    /// <summary>
    /// The metadata word of each column: one byte for FLOAT/DOUBLE (pack length), BLOB/JSON/GEOMETRY/
    /// VECTOR (length bytes) and the *2 temporals (fsp); two bytes little-endian for VARCHAR (max
    /// length); two bytes read high byte first for NEWDECIMAL (precision, scale), BIT (bits, bytes)
    /// and STRING/ENUM/SET (real type, length); nothing for the rest.
    /// </summary>
    private static int[] ReadColumnMetadata(ReadOnlySpan<byte> block, ColumnType[] types)
    {
        var reader = new ByteReader(block);
        var metadata = new int[types.Length];
        for (var i = 0; i < types.Length; i++)
        {
            metadata[i] = ReadOneMetadata(ref reader, types[i]);
        }

        if (!reader.IsAtEnd)
        {
            throw new FormatException($"The TABLE_MAP metadata block has {reader.Remaining} bytes left after its {types.Length} columns.");
        }

        return metadata;
    }

    private static int ReadOneMetadata(ref ByteReader reader, ColumnType type)
    {
        switch (type)
        {
            case ColumnType.Float:
            case ColumnType.Double:
            case ColumnType.Blob:
            case ColumnType.TinyBlob:
            case ColumnType.MediumBlob:
            case ColumnType.LongBlob:
            case ColumnType.Json:
            case ColumnType.Geometry:
            case ColumnType.Vector:
            case ColumnType.Time2:
            case ColumnType.DateTime2:
            case ColumnType.Timestamp2:
                return reader.ReadByte();
            case ColumnType.VarChar:
            case ColumnType.VarString:
                return reader.ReadUInt16();
            case ColumnType.NewDecimal:
            case ColumnType.Bit:
            case ColumnType.String:
            case ColumnType.Enum:
            case ColumnType.Set:
            {
                var high = reader.ReadByte();
                return (high << 8) | reader.ReadByte();
            }

            case ColumnType.TypedArray:
            {
                // The element type, then that type's own metadata.
                var element = (ColumnType)reader.ReadByte();
                return ((int)element << 16) | (ReadOneMetadata(ref reader, element) & 0xFFFF);
            }

            default:
                return 0;
        }
    }

    private static bool IsNumeric(ColumnType type) => type is ColumnType.Tiny or ColumnType.Short or ColumnType.Int24
        or ColumnType.Long or ColumnType.LongLong or ColumnType.Float or ColumnType.Double or ColumnType.NewDecimal;

    private static bool IsCharacter(ColumnType type) => type is ColumnType.VarChar or ColumnType.VarString
        or ColumnType.String or ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob;

    private static bool IsEnumOrSet(ColumnType type) => type is ColumnType.Enum or ColumnType.Set;

    private static TableMapOptionalMetadata ReadOptionalMetadata(ReadOnlySpan<byte> fields, ColumnType[] types)
    {
        var count = types.Length;
        bool[]? unsigned = null;
        int[]? collations = null;
        int[]? enumSetCollations = null;
        string[]? names = null;
        byte[][][]? setRaw = null;
        byte[][][]? enumRaw = null;
        int[]? geometryTypes = null;
        int[]? primaryKey = null;
        int[]? prefixes = null;
        bool[]? visible = null;
        int[]? dimensions = null;

        var reader = new ByteReader(fields);
        while (!reader.IsAtEnd)
        {
            var fieldType = reader.ReadByte();
            var value = new ByteReader(reader.ReadLengthEncodedBytes());
            switch (fieldType)
            {
                case Signedness:
                    unsigned = ReadMsbBitmapOver(ref value, types, IsNumeric);
                    break;
                case DefaultCharset:
                    collations = ReadDefaultCharset(ref value, types, IsCharacter);
                    break;
                case ColumnCharset:
                    collations = ReadColumnCharsets(ref value, types, IsCharacter);
                    break;
                case ColumnName:
                    names = new string[count];
                    for (var i = 0; i < count; i++)
                    {
                        names[i] = Encoding.UTF8.GetString(value.ReadLengthEncodedBytes());
                    }

                    break;
                case SetStrValue:
                    setRaw = ReadStringLists(ref value, types, ColumnType.Set);
                    break;
                case EnumStrValue:
                    enumRaw = ReadStringLists(ref value, types, ColumnType.Enum);
                    break;
                case GeometryType:
                    geometryTypes = ReadPackedPerColumn(ref value, types, static t => t == ColumnType.Geometry);
                    break;
                case SimplePrimaryKey:
                {
                    var keys = new List<int>();
                    while (!value.IsAtEnd)
                    {
                        keys.Add(ReadOrdinal(ref value, count));
                    }

                    primaryKey = keys.ToArray();
                    prefixes = new int[primaryKey.Length];
                    break;
                }

                case PrimaryKeyWithPrefix:
                {
                    var keys = new List<int>();
                    var lengths = new List<int>();
                    while (!value.IsAtEnd)
                    {
                        keys.Add(ReadOrdinal(ref value, count));
                        lengths.Add(checked((int)value.ReadLengthEncodedInteger()));
                    }

                    primaryKey = keys.ToArray();
                    prefixes = lengths.ToArray();
                    break;
                }

                case EnumAndSetDefaultCharset:
                    enumSetCollations = ReadDefaultCharset(ref value, types, IsEnumOrSet);
                    break;
                case EnumAndSetColumnCharset:
                    enumSetCollations = ReadColumnCharsets(ref value, types, IsEnumOrSet);
                    break;
                case ColumnVisibility:
                    visible = ReadMsbBitmapOver(ref value, types, static _ => true);
                    break;
                case VectorDimensionality:
                    dimensions = ReadPackedPerColumn(ref value, types, static t => t == ColumnType.Vector);
                    break;
                default:
                    // A field this reader does not know: its length lets it be skipped.
                    break;
            }
        }

        return new TableMapOptionalMetadata
        {
            Unsigned = unsigned,
            ColumnCollations = collations,
            ColumnNames = names,
            SetValues = DecodeStringLists(setRaw, enumSetCollations),
            EnumValues = DecodeStringLists(enumRaw, enumSetCollations),
            GeometryTypes = geometryTypes,
            PrimaryKey = primaryKey,
            PrimaryKeyPrefixes = prefixes,
            EnumAndSetCollations = enumSetCollations,
            Visible = visible,
            VectorDimensions = dimensions,
        };
    }

    private static int ReadOrdinal(ref ByteReader reader, int count)
    {
        var ordinal = reader.ReadLengthEncodedInteger();
        return ordinal < (ulong)count
            ? (int)ordinal
            : throw new FormatException($"A TABLE_MAP key names column {ordinal} of a {count}-column table.");
    }

    /// <summary>One bit per column of the selected kind, most significant bit first (SIGNEDNESS, COLUMN_VISIBILITY).</summary>
    private static bool[] ReadMsbBitmapOver(ref ByteReader reader, ColumnType[] types, Func<ColumnType, bool> selected)
    {
        var result = new bool[types.Length];
        var bits = reader.ReadToEnd();
        var k = 0;
        for (var i = 0; i < types.Length; i++)
        {
            if (!selected(types[i]))
            {
                continue;
            }

            if (k >> 3 >= bits.Length)
            {
                throw new FormatException($"A TABLE_MAP bitmap of {bits.Length} bytes is too short for its columns.");
            }

            result[i] = (bits[k >> 3] & (0x80 >> (k & 7))) != 0;
            k++;
        }

        return result;
    }

    /// <summary>DEFAULT_CHARSET: the default collation, then (index among the selected columns, collation) pairs for the exceptions.</summary>
    private static int[] ReadDefaultCharset(ref ByteReader reader, ColumnType[] types, Func<ColumnType, bool> selected)
    {
        var defaultCollation = checked((int)reader.ReadLengthEncodedInteger());
        var selectedOrdinals = SelectedOrdinals(types, selected);
        var result = new int[types.Length];
        foreach (var ordinal in selectedOrdinals)
        {
            result[ordinal] = defaultCollation;
        }

        while (!reader.IsAtEnd)
        {
            var index = reader.ReadLengthEncodedInteger();
            var collation = checked((int)reader.ReadLengthEncodedInteger());
            if (index >= (ulong)selectedOrdinals.Count)
            {
                throw new FormatException($"A TABLE_MAP charset names character column {index} of {selectedOrdinals.Count}.");
            }

            result[selectedOrdinals[(int)index]] = collation;
        }

        return result;
    }

    /// <summary>COLUMN_CHARSET: one collation per selected column, in order.</summary>
    private static int[] ReadColumnCharsets(ref ByteReader reader, ColumnType[] types, Func<ColumnType, bool> selected)
    {
        var result = new int[types.Length];
        foreach (var ordinal in SelectedOrdinals(types, selected))
        {
            result[ordinal] = checked((int)reader.ReadLengthEncodedInteger());
        }

        return result;
    }

    private static int[] ReadPackedPerColumn(ref ByteReader reader, ColumnType[] types, Func<ColumnType, bool> selected)
    {
        var result = new int[types.Length];
        foreach (var ordinal in SelectedOrdinals(types, selected))
        {
            result[ordinal] = checked((int)reader.ReadLengthEncodedInteger());
        }

        return result;
    }

    /// <summary>SET_STR_VALUE / ENUM_STR_VALUE: for each such column, a packed count, then that many packed-length strings.</summary>
    private static byte[][][] ReadStringLists(ref ByteReader reader, ColumnType[] types, ColumnType kind)
    {
        var result = new byte[types.Length][][];
        for (var i = 0; i < types.Length; i++)
        {
            if (types[i] != kind)
            {
                result[i] = [];
                continue;
            }

            var count = reader.ReadLengthEncodedInteger();
            if (count > 65535)
            {
                throw new FormatException($"A TABLE_MAP lists {count} {kind} members for one column.");
            }

            var members = new byte[count][];
            for (var m = 0; m < members.Length; m++)
            {
                members[m] = reader.ReadLengthEncodedBytes().ToArray();
            }

            result[i] = members;
        }

        return result;
    }

    private static string[][]? DecodeStringLists(byte[][][]? raw, int[]? collations)
    {
        if (raw is null)
        {
            return null;
        }

        var result = new string[raw.Length][];
        for (var i = 0; i < raw.Length; i++)
        {
            var text = TextDecoder.ForCollation(collations?[i] ?? 0);
            result[i] = Array.ConvertAll(raw[i], bytes => text.IsBinary ? Encoding.UTF8.GetString(bytes) : text.DecodeString(bytes));
        }

        return result;
    }

    private static List<int> SelectedOrdinals(ColumnType[] types, Func<ColumnType, bool> selected)
    {
        var ordinals = new List<int>();
        for (var i = 0; i < types.Length; i++)
        {
            if (selected(types[i]))
            {
                ordinals.Add(i);
            }
        }

        return ordinals;
    }

    private static TableSchema BuildSchema(
        string database,
        string table,
        ColumnType[] realTypes,
        int[] metadata,
        bool[] nullable,
        TableMapOptionalMetadata optional)
    {
        var columns = new ColumnDefinition[realTypes.Length];
        for (var i = 0; i < realTypes.Length; i++)
        {
            var type = realTypes[i];
            var collation = IsEnumOrSet(type) ? optional.EnumAndSetCollations?[i] ?? 0 : optional.ColumnCollations?[i] ?? 0;
            columns[i] = new ColumnDefinition(
                optional.ColumnNames?[i] ?? "@" + (i + 1).ToString(CultureInfo.InvariantCulture),
                type,
                metadata[i],
                nullable[i],
                Unsigned: optional.Unsigned?[i] ?? false,
                Collation: collation,
                EnumValues: type == ColumnType.Enum ? optional.EnumValues?[i] : null,
                SetValues: type == ColumnType.Set ? optional.SetValues?[i] : null,
                IsJson: type == ColumnType.Json);
        }

        return new TableSchema(database, table, columns, optional.PrimaryKey ?? []);
    }
}
