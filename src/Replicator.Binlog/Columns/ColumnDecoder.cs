using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Replicator.Binlog.Protocol;
using Replicator.Binlog.Vendors.MySql;

namespace Replicator.Binlog.Columns;

/// <summary>
/// Decodes one cell of a row image. The per-type layouts are MySQL's "binary protocol value"
/// storage formats as written by <c>Field::pack</c>, documented at
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rows__event.html
/// and https://mariadb.com/kb/en/rows_event_v1v2-rows_compressed_event_v1/ (the per-type table).
/// Integers and floats are little-endian; DECIMAL and the *2 temporals are big-endian.
/// </summary>
internal static partial class ColumnDecoder
{
    public static ColumnValue Decode(ref ByteReader reader, ColumnLayout layout)
    {
        switch (layout.Codec)
        {
            case ColumnCodec.Int8:
            {
                var b = reader.ReadByte();
                return layout.Unsigned ? ColumnValue.FromUInt64(b) : ColumnValue.FromInt64((sbyte)b);
            }

            case ColumnCodec.Int16:
            {
                var v = reader.ReadUInt16();
                return layout.Unsigned ? ColumnValue.FromUInt64(v) : ColumnValue.FromInt64((short)v);
            }

            case ColumnCodec.Int24:
            {
                var v = reader.ReadUInt24();
                // Sign-extend bit 23 for MEDIUMINT.
                return layout.Unsigned ? ColumnValue.FromUInt64(v) : ColumnValue.FromInt64(((int)(v << 8)) >> 8);
            }

            case ColumnCodec.Int32:
            {
                var v = reader.ReadUInt32();
                return layout.Unsigned ? ColumnValue.FromUInt64(v) : ColumnValue.FromInt64((int)v);
            }

            case ColumnCodec.Int64:
            {
                var v = reader.ReadUInt64();
                return layout.Unsigned ? ColumnValue.FromUInt64(v) : ColumnValue.FromInt64(unchecked((long)v));
            }

            case ColumnCodec.Float:
                return ColumnValue.FromFloat(BitConverter.Int32BitsToSingle((int)reader.ReadUInt32()));
            case ColumnCodec.Double:
                return ColumnValue.FromDouble(BitConverter.Int64BitsToDouble(unchecked((long)reader.ReadUInt64())));
            case ColumnCodec.NewDecimal:
                return layout.Precision <= CompactDecimalPrecision
                    ? ColumnValue.FromDecimal(DecodeCompactDecimal(ref reader, layout.Precision, layout.Scale), layout.Scale)
                    : ColumnValue.FromDecimal(DecodeDecimal(ref reader, layout.Precision, layout.Scale));
            case ColumnCodec.Year:
            {
                // One byte: 0 is the zero year, else years since 1900.
                var b = reader.ReadByte();
                return ColumnValue.FromYear(b == 0 ? 0 : 1900 + b);
            }

            case ColumnCodec.Date:
                return DecodeDate(ref reader);
            case ColumnCodec.Time:
                return layout.Scale == 0 ? DecodeOldTime(ref reader) : DecodeHiresTime(ref reader, layout.Scale);
            case ColumnCodec.DateTime:
                return layout.Scale == 0 ? DecodeOldDateTime(ref reader) : DecodeHiresDateTime(ref reader, layout.Scale);
            case ColumnCodec.Timestamp:
                // Seconds since the epoch, 4 bytes little-endian.
                return layout.Scale == 0 ? ColumnValue.FromTimestamp(reader.ReadUInt32(), 0, 0) : DecodeHiresTimestamp(ref reader, layout.Scale);
            case ColumnCodec.Time2:
                return DecodeTime2(ref reader, layout.Scale);
            case ColumnCodec.DateTime2:
                return DecodeDateTime2(ref reader, layout.Scale);
            case ColumnCodec.Timestamp2:
                return DecodeTimestamp2(ref reader, layout.Scale);
            case ColumnCodec.Bit:
            {
                // (bits + 7) / 8 bytes, big-endian, most significant bit first.
                var value = reader.ReadUIntNBigEndian((layout.Bits + 7) / 8);
                return ColumnValue.FromBit(value, layout.Bits);
            }

            case ColumnCodec.Enum:
                return DecodeEnum(ref reader, layout);
            case ColumnCodec.Set:
                return DecodeSet(ref reader, layout);
            case ColumnCodec.VarString:
            {
                var length = layout.LengthBytes == 1 ? reader.ReadByte() : reader.ReadUInt16();
                return DecodeText(reader.ReadBytes(length), layout);
            }

            case ColumnCodec.FixedString:
            {
                var length = layout.LengthBytes == 1 ? reader.ReadByte() : reader.ReadUInt16();
                var bytes = reader.ReadBytes(length);
                if (layout.Text.IsBinary && bytes.Length < layout.MaxLength)
                {
                    // BINARY(n) is stored without its trailing 0x00 padding; put it back so the
                    // value is the n bytes the server holds.
                    var padded = new byte[layout.MaxLength];
                    bytes.CopyTo(padded);
                    return ColumnValue.FromBytes(padded);
                }

                return DecodeText(bytes, layout);
            }

            case ColumnCodec.Blob:
                return DecodeText(reader.ReadBytes(ReadLength(ref reader, layout.LengthBytes)), layout);
            case ColumnCodec.Json:
                return ColumnValue.FromJson(MySqlJsonBinary.ToJson(reader.ReadBytes(ReadLength(ref reader, layout.LengthBytes))));
            case ColumnCodec.Geometry:
            {
                // A 4-byte little-endian SRID, then the WKB.
                var bytes = reader.ReadBytes(ReadLength(ref reader, layout.LengthBytes));
                if (bytes.Length < 4)
                {
                    throw new FormatException($"A GEOMETRY value of {bytes.Length} bytes is shorter than its 4-byte SRID.");
                }

                return ColumnValue.FromGeometry(bytes[4..].ToArray(), BinaryPrimitives.ReadUInt32LittleEndian(bytes));
            }

            case ColumnCodec.Vector:
                return ColumnValue.FromVector(reader.ReadBytes(ReadLength(ref reader, layout.LengthBytes)).ToArray());
            case ColumnCodec.Null:
                return ColumnValue.Null;
            default:
                throw Unsupported(layout.Type);
        }
    }

    /// <summary>The little-endian length prefix of BLOB-like cells (1 to 4 bytes, from the metadata).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ReadLength(ref ByteReader reader, int lengthBytes)
    {
        var length = lengthBytes switch
        {
            1 => reader.ReadByte(),
            2 => reader.ReadUInt16(),
            3 => reader.ReadUInt24(),
            4 => reader.ReadUInt32(),
            _ => throw new FormatException($"A length prefix of {lengthBytes} bytes is not valid (expected 1 to 4)."),
        };
        if (length > int.MaxValue)
        {
            throw new FormatException($"A value length of {length} bytes is too large.");
        }

        return (int)length;
    }

    private static ColumnValue DecodeText(ReadOnlySpan<byte> bytes, ColumnLayout layout)
    {
        var value = layout.Text.Decode(bytes);
        return layout.TextIsJson && value.Kind == ValueKind.String ? ColumnValue.FromJson(value.AsString()!) : value;
    }

    private static ColumnValue DecodeEnum(ref ByteReader reader, ColumnLayout layout)
    {
        // 1 or 2 bytes little-endian: the 1-based index, 0 for the '' error value.
        var index = (int)reader.ReadUIntN(layout.LengthBytes);
        string? name = null;
        if (layout.Names is { } names)
        {
            name = index == 0 ? string.Empty : index <= names.Count ? names[index - 1] : null;
        }

        return ColumnValue.FromEnum(index, name);
    }

    private static ColumnValue DecodeSet(ref ByteReader reader, ColumnLayout layout)
    {
        // 1 to 8 bytes little-endian: bit i set means member i.
        var bits = reader.ReadUIntN(layout.LengthBytes);
        string? names = null;
        if (layout.Names is { } members && (members.Count >= 64 || bits >> members.Count == 0))
        {
            names = bits == 0 ? string.Empty : JoinSetMembers(bits, members);
        }

        return ColumnValue.FromSet(bits, names);
    }

    private static string JoinSetMembers(ulong bits, IReadOnlyList<string> members)
    {
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < members.Count && i < 64; i++)
        {
            if ((bits & (1UL << i)) != 0)
            {
                if (builder.Length > 0)
                {
                    builder.Append(',');
                }

                builder.Append(members[i]);
            }
        }

        return builder.ToString();
    }

    private static FormatException Unsupported(ColumnType type) => type == ColumnType.Decimal
        ? new FormatException("Column type DECIMAL (0, the pre-5.0 string decimal) cannot be decoded; ALTER the table to rebuild it as NEWDECIMAL.")
        : new FormatException($"Column type {type} ({(int)type}) cannot be decoded from a rows event.");
}
