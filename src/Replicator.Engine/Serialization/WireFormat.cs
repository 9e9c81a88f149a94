using Replicator.Binlog.Columns;
using Replicator.Binlog.Positions;
using Replicator.Engine.Offsets;
using Replicator.Model;

namespace Replicator.Engine.Serialization;

/// <summary>
/// The binary encoding of the model types inside wire messages: little-endian, strings as UTF-8
/// with a 7-bit-encoded length, optional values behind a presence byte. Every field is written
/// explicitly; adding a field means a new manifest or a trailing optional field.
/// </summary>
internal static class WireFormat
{
    public static void WriteChange(BinaryWriter w, RowChange change)
    {
        w.Write(change.Source);
        w.Write(change.Schema);
        w.Write(change.Table);
        w.Write((byte)change.Action);
        WriteNames(w, change.Key.Names);
        WriteValues(w, change.Key.Values);

        // Before and after images share one name list in nearly every change.
        var names = change.Before?.Names ?? change.After!.Names;
        var shared = change.Before is null || change.After is null || ReferenceEquals(change.Before.Names, change.After.Names);
        w.Write(shared);
        WriteNames(w, names);
        WriteRow(w, change.Before, shared);
        WriteRow(w, change.After, shared);

        w.Write(change.Position.File);
        w.Write(change.Position.Position);
        WriteOptional(w, change.Position.Gtid);
        WriteVersion(w, change.Version);
        w.Write(change.CommitTime.Ticks);
    }

    /// <summary>
    /// An upper bound of the bytes a change takes in a delivery: what <see cref="WriteChange"/> writes
    /// for it, plus its sequence number. Long strings count their UTF-8 length, short ones 3 bytes a
    /// char, and every length prefix its largest (5 bytes), so the bound holds for any content;
    /// deliveries are cut by it.
    /// </summary>
    public static long EstimatedSize(RowChange change)
    {
        var size = 8 + SizeOf(change.Source) + SizeOf(change.Schema) + SizeOf(change.Table) + 1;
        size += SizeOf(change.Key.Names) + SizeOf(change.Key.Values);
        size += 1 + SizeOf(change.Before?.Names ?? change.After!.Names);
        if (change.Before is not null && change.After is not null && !ReferenceEquals(change.Before.Names, change.After.Names))
        {
            size += SizeOf(change.After.Names);
        }

        size += 1 + (change.Before is null ? 0 : SizeOf(change.Before.Values));
        size += 1 + (change.After is null ? 0 : SizeOf(change.After.Values));
        size += SizeOf(change.Position.File) + 8 + 1 + (change.Position.Gtid is null ? 0 : SizeOf(change.Position.Gtid));
        return size + 8 + 8 + 4 + 8;
    }

    /// <summary>An upper bound of the bytes a string takes on the wire (its UTF-8 and its length prefix), as <see cref="EstimatedSize(RowChange)"/> counts it.</summary>
    public static long EstimatedSize(string text) => SizeOf(text);

    // A UTF-16 char is at most 3 UTF-8 bytes (a surrogate pair, 2 chars, is 4): short strings (names,
    // most values) are bounded without reading them, long ones counted exactly.
    private static long SizeOf(string text) => 5 + (text.Length <= 64 ? text.Length * 3 : System.Text.Encoding.UTF8.GetByteCount(text));

    private static long SizeOf(IReadOnlyList<string> names)
    {
        long size = 5;
        foreach (var name in names)
        {
            size += SizeOf(name);
        }

        return size;
    }

    private static long SizeOf(ColumnValue[] values)
    {
        long size = 5;
        foreach (var value in values)
        {
            size += 1 + value.Kind switch
            {
                ValueKind.Absent or ValueKind.Null => 0,
                ValueKind.Int64 or ValueKind.Year or ValueKind.UInt64 or ValueKind.Float or ValueKind.Double => 8,
                ValueKind.Decimal or ValueKind.String or ValueKind.Json => SizeOf(value.AsString()!),
                ValueKind.Date => 6,
                ValueKind.DateTime => 14,
                ValueKind.Timestamp => 13,
                ValueKind.Time or ValueKind.Bit => 9,
                ValueKind.Bytes or ValueKind.Vector => 5 + value.AsBytes()!.Length,
                ValueKind.Geometry => 9 + value.AsBytes()!.Length,
                ValueKind.Enum or ValueKind.Set => 9 + (value.AsString() is { } name ? SizeOf(name) : 0),
                ValueKind.JsonDiff => 5 + value.AsJsonDiff()!.Sum(d => 2 + SizeOf(d.Path) + (d.ValueJson is null ? 0 : SizeOf(d.ValueJson))),
                _ => throw new NotSupportedException($"No wire encoding for column values of kind {value.Kind}."),
            };
        }

        return size;
    }

    public static RowChange ReadChange(BinaryReader r)
    {
        var source = r.ReadString();
        var schema = r.ReadString();
        var table = r.ReadString();
        var action = (ChangeAction)r.ReadByte();
        var keyNames = ReadNames(r);
        var key = new RowKey(keyNames, ReadValues(r));
        var shared = r.ReadBoolean();
        var names = ReadNames(r);
        var before = ReadRow(r, names, shared);
        var after = ReadRow(r, names, shared);
        var position = new ChangePosition(r.ReadString(), r.ReadInt64(), ReadOptional(r));
        var version = ReadVersion(r);
        var commitTime = new DateTime(r.ReadInt64(), DateTimeKind.Utc);
        return new RowChange(source, schema, table, action, key, before, after, position, version, commitTime);
    }

    /// <summary>
    /// Three fields, as positional versions always were: file sequence (never negative), position,
    /// row. A GTID version writes -1 for the file sequence, then its rank, then its row.
    /// </summary>
    private static void WriteVersion(BinaryWriter w, SourceVersion version)
    {
        var gtid = version.Kind == SourceVersionKind.Gtid;
        w.Write(gtid ? -1L : version.FileSequence);
        w.Write(gtid ? unchecked((long)version.Rank) : version.Position);
        w.Write(version.Row);
    }

    private static SourceVersion ReadVersion(BinaryReader r)
    {
        var file = r.ReadInt64();
        var second = r.ReadInt64();
        var row = r.ReadInt32();
        return file < 0 ? SourceVersion.OfGtid(unchecked((ulong)second), row) : new SourceVersion(file, second, row);
    }

    public static void WriteOffset(BinaryWriter w, SourceOffset offset)
    {
        w.Write(offset.Position.File);
        w.Write(offset.Position.Position);
        w.Write(offset.SkipRows);
        WriteOptional(w, offset.Gtid);
    }

    public static SourceOffset ReadOffset(BinaryReader r) =>
        new(new BinlogPosition(r.ReadString(), r.ReadInt64()), r.ReadInt32(), ReadOptional(r));

    public static void WriteOptional(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    public static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    public static void WriteOptionalTime(BinaryWriter w, DateTime? value)
    {
        w.Write(value.HasValue);
        if (value.HasValue)
        {
            w.Write(value.Value.Ticks);
        }
    }

    public static DateTime? ReadOptionalTime(BinaryReader r) => r.ReadBoolean() ? new DateTime(r.ReadInt64(), DateTimeKind.Utc) : null;

    private static void WriteRow(BinaryWriter w, RowData? row, bool shared)
    {
        w.Write(row is not null);
        if (row is null)
        {
            return;
        }

        if (!shared)
        {
            WriteNames(w, row.Names);
        }

        WriteValues(w, row.Values);
    }

    private static RowData? ReadRow(BinaryReader r, IReadOnlyList<string> names, bool shared)
    {
        if (!r.ReadBoolean())
        {
            return null;
        }

        var own = shared ? names : ReadNames(r);
        return new RowData(own, ReadValues(r));
    }

    private static void WriteNames(BinaryWriter w, IReadOnlyList<string> names)
    {
        w.Write7BitEncodedInt(names.Count);
        foreach (var name in names)
        {
            w.Write(name);
        }
    }

    private static string[] ReadNames(BinaryReader r)
    {
        var names = new string[ReadCount(r, 1, "names")];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = r.ReadString();
        }

        return names;
    }

    private static void WriteValues(BinaryWriter w, ColumnValue[] values)
    {
        w.Write7BitEncodedInt(values.Length);
        foreach (var value in values)
        {
            WriteValue(w, value);
        }
    }

    private static ColumnValue[] ReadValues(BinaryReader r)
    {
        var values = new ColumnValue[ReadCount(r, 1, "values")];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = ReadValue(r);
        }

        return values;
    }

    public static void WriteValue(BinaryWriter w, ColumnValue value)
    {
        w.Write((byte)value.Kind);
        switch (value.Kind)
        {
            case ValueKind.Absent:
            case ValueKind.Null:
                return;
            case ValueKind.Int64:
            case ValueKind.Year:
                w.Write(value.AsInt64());
                return;
            case ValueKind.UInt64:
                w.Write(value.AsUInt64());
                return;
            case ValueKind.Float:
                w.Write(value.AsFloat());
                return;
            case ValueKind.Double:
                w.Write(value.AsDouble());
                return;
            case ValueKind.Decimal:
            case ValueKind.String:
            case ValueKind.Json:
                w.Write(value.AsString()!);
                return;
            case ValueKind.Date:
                w.Write(value.Year);
                w.Write((byte)value.Month);
                w.Write((byte)value.Day);
                return;
            case ValueKind.DateTime:
                w.Write(value.Year);
                w.Write((byte)value.Month);
                w.Write((byte)value.Day);
                w.Write((byte)value.Hour);
                w.Write((byte)value.Minute);
                w.Write((byte)value.Second);
                w.Write(value.Microsecond);
                w.Write((byte)value.Scale);
                return;
            case ValueKind.Timestamp:
                w.Write(value.UnixSeconds);
                w.Write(value.Microsecond);
                w.Write((byte)value.Scale);
                return;
            case ValueKind.Time:
                w.Write(value.TotalMicroseconds);
                w.Write((byte)value.Scale);
                return;
            case ValueKind.Bytes:
            case ValueKind.Vector:
                WriteBytes(w, value.AsBytes()!);
                return;
            case ValueKind.Geometry:
                WriteBytes(w, value.AsBytes()!);
                w.Write(value.GeometrySrid);
                return;
            case ValueKind.Bit:
                w.Write(value.AsUInt64());
                w.Write((byte)value.Scale);
                return;
            case ValueKind.Enum:
                w.Write(value.AsInt64());
                WriteOptional(w, value.AsString());
                return;
            case ValueKind.Set:
                w.Write(value.AsUInt64());
                WriteOptional(w, value.AsString());
                return;
            case ValueKind.JsonDiff:
                var diffs = value.AsJsonDiff()!;
                w.Write7BitEncodedInt(diffs.Count);
                foreach (var diff in diffs)
                {
                    w.Write((byte)diff.Operation);
                    w.Write(diff.Path);
                    WriteOptional(w, diff.ValueJson);
                }

                return;
            default:
                throw new NotSupportedException($"No wire encoding for column values of kind {value.Kind}.");
        }
    }

    public static ColumnValue ReadValue(BinaryReader r)
    {
        var kind = (ValueKind)r.ReadByte();
        switch (kind)
        {
            case ValueKind.Absent:
                return ColumnValue.Absent;
            case ValueKind.Null:
                return ColumnValue.Null;
            case ValueKind.Int64:
                return ColumnValue.FromInt64(r.ReadInt64());
            case ValueKind.Year:
                return ColumnValue.FromYear((int)r.ReadInt64());
            case ValueKind.UInt64:
                return ColumnValue.FromUInt64(r.ReadUInt64());
            case ValueKind.Float:
                return ColumnValue.FromFloat(r.ReadSingle());
            case ValueKind.Double:
                return ColumnValue.FromDouble(r.ReadDouble());
            case ValueKind.Decimal:
                return ColumnValue.FromDecimal(r.ReadString());
            case ValueKind.String:
                return ColumnValue.FromString(r.ReadString());
            case ValueKind.Json:
                return ColumnValue.FromJson(r.ReadString());
            case ValueKind.Date:
                return ColumnValue.FromDate(r.ReadInt32(), r.ReadByte(), r.ReadByte());
            case ValueKind.DateTime:
                return ColumnValue.FromDateTime(r.ReadInt32(), r.ReadByte(), r.ReadByte(), r.ReadByte(), r.ReadByte(), r.ReadByte(), r.ReadInt32(), r.ReadByte());
            case ValueKind.Timestamp:
                return ColumnValue.FromTimestamp(r.ReadInt64(), r.ReadInt32(), r.ReadByte());
            case ValueKind.Time:
                return ColumnValue.FromTime(r.ReadInt64(), r.ReadByte());
            case ValueKind.Bytes:
                return ColumnValue.FromBytes(ReadBytes(r));
            case ValueKind.Vector:
                return ColumnValue.FromVector(ReadBytes(r));
            case ValueKind.Geometry:
                return ColumnValue.FromGeometry(ReadBytes(r), r.ReadUInt32());
            case ValueKind.Bit:
                return ColumnValue.FromBit(r.ReadUInt64(), r.ReadByte());
            case ValueKind.Enum:
                return ColumnValue.FromEnum((int)r.ReadInt64(), ReadOptional(r));
            case ValueKind.Set:
                return ColumnValue.FromSet(r.ReadUInt64(), ReadOptional(r));
            case ValueKind.JsonDiff:
                var diffs = new JsonDiff[ReadCount(r, 3, "JSON diffs")];
                for (var i = 0; i < diffs.Length; i++)
                {
                    diffs[i] = new JsonDiff((JsonDiffOperation)r.ReadByte(), r.ReadString(), ReadOptional(r));
                }

                return ColumnValue.FromJsonDiff(diffs);
            default:
                throw new FormatException($"Unknown column value kind {(byte)kind} on the wire.");
        }
    }

    private static void WriteBytes(BinaryWriter w, byte[] bytes)
    {
        w.Write7BitEncodedInt(bytes.Length);
        w.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader r) => r.ReadBytes(ReadCount(r, 1, "bytes"));

    /// <summary>
    /// A 7-bit-encoded count of items of at least <paramref name="minItemBytes"/> bytes each, checked
    /// against the bytes left in the message before the caller allocates for them: a count no message
    /// of this length can hold (or a negative one) is refused instead of allocating an absurd array.
    /// </summary>
    public static int ReadCount(BinaryReader r, int minItemBytes, string what)
    {
        var at = r.BaseStream.Position;
        var count = r.Read7BitEncodedInt();
        var left = r.BaseStream.Length - r.BaseStream.Position;
        if (count < 0 || (long)count * minItemBytes > left)
        {
            throw new System.Runtime.Serialization.SerializationException(
                $"{what}: the count {count} at byte {at} needs at least {(long)count * minItemBytes} more bytes, and the message has {left} left.");
        }

        return count;
    }
}
