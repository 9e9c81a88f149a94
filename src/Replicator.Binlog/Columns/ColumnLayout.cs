namespace Replicator.Binlog.Columns;

/// <summary>
/// How one column's cells are laid out in a rows event and how they become values: resolved once
/// per TABLE_MAP (type, metadata) and schema (signedness, collation, ENUM/SET names), so decoding
/// a row is a switch over precomputed facts.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
/// (the "metadata" table lists what each type carries).
/// </summary>
internal sealed class ColumnLayout
{
    public required ColumnCodec Codec { get; init; }

    public required ColumnType Type { get; init; }

    public bool Unsigned { get; init; }

    /// <summary>Length-prefix bytes of VARCHAR/STRING/BLOB-like cells, pack length of ENUM/SET.</summary>
    public int LengthBytes { get; init; }

    /// <summary>The declared maximum length in bytes of CHAR/BINARY (STRING) columns.</summary>
    public int MaxLength { get; init; }

    public int Precision { get; init; }

    /// <summary>DECIMAL scale, or fractional-second digits of a temporal.</summary>
    public int Scale { get; init; }

    /// <summary>The width of a BIT column in bits.</summary>
    public int Bits { get; init; }

    public TextDecoder Text { get; init; } = TextDecoder.Utf8;

    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>Text that holds JSON (MariaDB's JSON alias of LONGTEXT when the schema says so).</summary>
    public bool TextIsJson { get; init; }

    /// <summary>
    /// Unpacks the type and metadata word of a TABLE_MAP column: STRING carries the real type
    /// (ENUM, SET or STRING) in its first metadata byte, and for lengths above 255 two more length
    /// bits in bits 4-5 of that byte, inverted (the "&gt;255 length trick").
    /// </summary>
    public static (ColumnType RealType, int Metadata) Unpack(ColumnType type, int rawMetadata)
    {
        switch (type)
        {
            case ColumnType.String:
            {
                var byte0 = (rawMetadata >> 8) & 0xFF;
                var byte1 = rawMetadata & 0xFF;
                if (byte0 == 0)
                {
                    return (ColumnType.String, byte1);
                }

                if ((byte0 & 0x30) != 0x30)
                {
                    // A CHAR longer than 255 bytes: the real type lost bits 4-5 to the length.
                    return (ColumnType.String, byte1 | (((byte0 & 0x30) ^ 0x30) << 4));
                }

                return ((ColumnType)byte0) switch
                {
                    ColumnType.Enum => (ColumnType.Enum, byte1),
                    ColumnType.Set => (ColumnType.Set, byte1),
                    _ => (ColumnType.String, byte1),
                };
            }

            case ColumnType.Bit:
                // First byte: bits in the last partial byte; second byte: whole bytes.
                return (ColumnType.Bit, ((rawMetadata & 0xFF) * 8) + ((rawMetadata >> 8) & 0xFF));
            case ColumnType.Date:
            case ColumnType.NewDate:
                return (ColumnType.Date, rawMetadata);
            default:
                return (type, rawMetadata);
        }
    }

    /// <summary>Metadata no server writes would make cells unreadable; it is refused at the TABLE_MAP.</summary>
    private static void Validate(ColumnType type, int metadata)
    {
        var valid = type switch
        {
            ColumnType.Enum => metadata is 1 or 2,
            ColumnType.Set => metadata is >= 1 and <= 8,
            ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob
                or ColumnType.Json or ColumnType.Geometry or ColumnType.Vector => metadata is >= 1 and <= 4,
            ColumnType.Time2 or ColumnType.DateTime2 or ColumnType.Timestamp2 => metadata is >= 0 and <= 6,
            ColumnType.Bit => metadata is >= 1 and <= 64,
            ColumnType.NewDecimal => (metadata >> 8) is >= 1 and <= 65 && (metadata & 0xFF) <= Math.Min(30, metadata >> 8),
            _ => true,
        };
        if (!valid)
        {
            throw new FormatException($"Column metadata {metadata} is not valid for {type}.");
        }
    }

    private static int HiresDigits(ColumnDefinition column) =>
        column.Type is ColumnType.Time or ColumnType.DateTime or ColumnType.Timestamp && column.Metadata is > 0 and <= 6 ? column.Metadata : 0;

    /// <summary>The layout of a column from its TABLE_MAP type/metadata and its schema definition.</summary>
    public static ColumnLayout Create(ColumnType mapType, int rawMetadata, ColumnDefinition column)
    {
        var (type, metadata) = Unpack(mapType, rawMetadata);
        Validate(type, metadata);
        switch (type)
        {
            case ColumnType.Tiny:
                return new ColumnLayout { Codec = ColumnCodec.Int8, Type = type, Unsigned = column.Unsigned };
            case ColumnType.Short:
                return new ColumnLayout { Codec = ColumnCodec.Int16, Type = type, Unsigned = column.Unsigned };
            case ColumnType.Int24:
                return new ColumnLayout { Codec = ColumnCodec.Int24, Type = type, Unsigned = column.Unsigned };
            case ColumnType.Long:
                return new ColumnLayout { Codec = ColumnCodec.Int32, Type = type, Unsigned = column.Unsigned };
            case ColumnType.LongLong:
                return new ColumnLayout { Codec = ColumnCodec.Int64, Type = type, Unsigned = column.Unsigned };
            case ColumnType.Float:
                return new ColumnLayout { Codec = ColumnCodec.Float, Type = type };
            case ColumnType.Double:
                return new ColumnLayout { Codec = ColumnCodec.Double, Type = type };
            case ColumnType.NewDecimal:
                return new ColumnLayout { Codec = ColumnCodec.NewDecimal, Type = type, Precision = (metadata >> 8) & 0xFF, Scale = metadata & 0xFF };
            case ColumnType.Decimal:
                return new ColumnLayout { Codec = ColumnCodec.Unsupported, Type = type };
            case ColumnType.Year:
                return new ColumnLayout { Codec = ColumnCodec.Year, Type = type };
            case ColumnType.Date:
                return new ColumnLayout { Codec = ColumnCodec.Date, Type = type };
            // The pre-5.6 temporals carry no metadata. MariaDB's old "hires" TIME/DATETIME/TIMESTAMP(1..6)
            // keep this type code with a wider cell, whose width only the schema can tell: a schema
            // source sets the fractional digits as the column's metadata.
            case ColumnType.Time:
                return new ColumnLayout { Codec = ColumnCodec.Time, Type = type, Scale = HiresDigits(column) };
            case ColumnType.DateTime:
                return new ColumnLayout { Codec = ColumnCodec.DateTime, Type = type, Scale = HiresDigits(column) };
            case ColumnType.Timestamp:
                return new ColumnLayout { Codec = ColumnCodec.Timestamp, Type = type, Scale = HiresDigits(column) };
            case ColumnType.Time2:
                return new ColumnLayout { Codec = ColumnCodec.Time2, Type = type, Scale = metadata };
            case ColumnType.DateTime2:
                return new ColumnLayout { Codec = ColumnCodec.DateTime2, Type = type, Scale = metadata };
            case ColumnType.Timestamp2:
                return new ColumnLayout { Codec = ColumnCodec.Timestamp2, Type = type, Scale = metadata };
            case ColumnType.Bit:
                return new ColumnLayout { Codec = ColumnCodec.Bit, Type = type, Bits = metadata };
            case ColumnType.Enum:
                return new ColumnLayout { Codec = ColumnCodec.Enum, Type = type, LengthBytes = metadata, Names = column.EnumValues };
            case ColumnType.Set:
                return new ColumnLayout { Codec = ColumnCodec.Set, Type = type, LengthBytes = metadata, Names = column.SetValues };
            case ColumnType.VarChar:
            case ColumnType.VarString:
                return new ColumnLayout
                {
                    Codec = ColumnCodec.VarString,
                    Type = type,
                    LengthBytes = metadata < 256 ? 1 : 2,
                    MaxLength = metadata,
                    Text = TextDecoder.ForCollation(column.Collation),
                    TextIsJson = column.IsJson,
                };
            case ColumnType.String:
                return new ColumnLayout
                {
                    Codec = ColumnCodec.FixedString,
                    Type = type,
                    LengthBytes = metadata < 256 ? 1 : 2,
                    MaxLength = metadata,
                    Text = TextDecoder.ForCollation(column.Collation),
                    TextIsJson = column.IsJson,
                };
            case ColumnType.Blob:
            case ColumnType.TinyBlob:
            case ColumnType.MediumBlob:
            case ColumnType.LongBlob:
                return new ColumnLayout
                {
                    Codec = ColumnCodec.Blob,
                    Type = type,
                    LengthBytes = metadata,
                    // A BLOB/TEXT with no known charset stays bytes: it may be binary.
                    Text = column.Collation == 0 ? TextDecoder.Binary : TextDecoder.ForCollation(column.Collation),
                    TextIsJson = column.IsJson,
                };
            case ColumnType.Json:
                return new ColumnLayout { Codec = ColumnCodec.Json, Type = type, LengthBytes = metadata };
            case ColumnType.Geometry:
                return new ColumnLayout { Codec = ColumnCodec.Geometry, Type = type, LengthBytes = metadata };
            case ColumnType.Vector:
                return new ColumnLayout { Codec = ColumnCodec.Vector, Type = type, LengthBytes = metadata };
            case ColumnType.Null:
                return new ColumnLayout { Codec = ColumnCodec.Null, Type = type };
            default:
                return new ColumnLayout { Codec = ColumnCodec.Unsupported, Type = type };
        }
    }
}
