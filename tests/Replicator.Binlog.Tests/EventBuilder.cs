using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests;

/// <summary>
/// Builds binlog events byte by byte, with positions that follow each other as in a file, so
/// tests can feed a decoder streams no fixture holds.
/// </summary>
internal sealed class EventBuilder
{
    public const string File = "test-bin.000007";

    public EventBuilder(bool checksum = true, string serverVersion = "8.0.36")
    {
        Checksum = checksum;
        ServerVersion = serverVersion;
    }

    public bool Checksum { get; set; }

    public string ServerVersion { get; }

    /// <summary>The position the next event will start at.</summary>
    public uint Position { get; set; } = 4;

    public uint Timestamp { get; set; } = 1_700_000_000;

    public byte[] Event(BinlogEventType type, byte[] body, ushort flags = 0, bool? checksum = null, uint serverId = 1)
    {
        var withCrc = checksum ?? Checksum;
        var size = (uint)(EventHeader.Size + body.Length + (withCrc ? 4 : 0));
        var header = Concat(U32(Timestamp), [(byte)type], U32(serverId), U32(size), U32(Position + size), U16(flags));
        var raw = Concat(header, body);
        if (withCrc)
        {
            raw = Concat(raw, U32(Crc32.Compute(raw)));
        }

        Position += size;
        return raw;
    }

    /// <summary>A FORMAT_DESCRIPTION with the standard post-header lengths of MySQL 8 (and MariaDB's types up to 171).</summary>
    public byte[] FormatDescription()
    {
        var version = new byte[50];
        Utf8(ServerVersion).CopyTo(version, 0);
        var postHeaders = new byte[171];
        postHeaders[(int)BinlogEventType.Query - 1] = 13;
        postHeaders[(int)BinlogEventType.Rotate - 1] = 8;
        postHeaders[(int)BinlogEventType.FormatDescription - 1] = 98;
        postHeaders[(int)BinlogEventType.TableMap - 1] = 8;
        for (var t = (int)BinlogEventType.WriteRowsV1; t <= (int)BinlogEventType.DeleteRowsV1; t++)
        {
            postHeaders[t - 1] = 8;
        }

        for (var t = (int)BinlogEventType.WriteRowsV2; t <= (int)BinlogEventType.DeleteRowsV2; t++)
        {
            postHeaders[t - 1] = 10;
        }

        postHeaders[(int)BinlogEventType.PartialUpdateRows - 1] = 10;
        postHeaders[(int)BinlogEventType.Gtid - 1] = 42;
        postHeaders[(int)BinlogEventType.AnonymousGtid - 1] = 42;
        postHeaders[(int)BinlogEventType.QueryCompressed - 1] = 13;
        for (var t = (int)BinlogEventType.WriteRowsCompressedV1; t <= (int)BinlogEventType.DeleteRowsCompressedV1; t++)
        {
            postHeaders[t - 1] = 8;
        }

        for (var t = (int)BinlogEventType.WriteRowsCompressed; t <= (int)BinlogEventType.DeleteRowsCompressed; t++)
        {
            postHeaders[t - 1] = 10;
        }

        var body = Concat(U16(4), version, U32(Timestamp), [19], postHeaders, [(byte)(Checksum ? 1 : 0)]);
        // The algorithm byte and the CRC field are there whether or not the CRC is used.
        var size = (uint)(EventHeader.Size + body.Length + 4);
        var raw = Concat(U32(Timestamp), [(byte)BinlogEventType.FormatDescription], U32(1), U32(size), U32(Position + size), U16(0), body);
        raw = Concat(raw, Checksum ? U32(Crc32.Compute(raw)) : U32(0));
        Position += size;
        return raw;
    }

    public byte[] Rotate(string nextFile, ulong position = 4) => Event(BinlogEventType.Rotate, Concat(U64(position), Utf8(nextFile)));

    public byte[] Query(string schema, string sql, byte[]? statusVariables = null)
    {
        var status = statusVariables ?? [];
        return Event(BinlogEventType.Query, Concat(U32(77), U32(0), [(byte)Utf8(schema).Length], U16(0), U16(status.Length), status, Utf8(schema), [0], Utf8(sql)));
    }

    public byte[] Xid(ulong xid) => Event(BinlogEventType.Xid, U64(xid));

    /// <summary>A TABLE_MAP: <paramref name="metadata"/> is the raw metadata block (without its length).</summary>
    public byte[] TableMap(ulong tableId, string database, string table, ColumnType[] types, byte[] metadata, byte[]? nullBits = null, byte[]? optional = null)
    {
        var body = Concat(
            U48(tableId),
            U16(1),
            [(byte)Utf8(database).Length], Utf8(database), [0],
            [(byte)Utf8(table).Length], Utf8(table), [0],
            Packed((ulong)types.Length),
            types.Select(t => (byte)t).ToArray(),
            Packed((ulong)metadata.Length), metadata,
            nullBits ?? new byte[(types.Length + 7) / 8],
            optional ?? []);
        return Event(BinlogEventType.TableMap, body);
    }

    /// <summary>A rows event with every column present; <paramref name="rows"/> is the row data after the bitmaps.</summary>
    public byte[] Rows(BinlogEventType type, ulong tableId, int columnCount, byte[] rows, byte[]? present = null, byte[]? extraData = null, ushort flags = 1)
    {
        var bitmap = present ?? AllPresent(columnCount);
        var isUpdate = type is BinlogEventType.UpdateRowsV1 or BinlogEventType.UpdateRowsV2 or BinlogEventType.PartialUpdateRows
            or BinlogEventType.UpdateRowsCompressedV1 or BinlogEventType.UpdateRowsCompressed;
        var hasExtra = type is BinlogEventType.WriteRowsV2 or BinlogEventType.UpdateRowsV2 or BinlogEventType.DeleteRowsV2
            or BinlogEventType.PartialUpdateRows or BinlogEventType.WriteRowsCompressed or BinlogEventType.UpdateRowsCompressed or BinlogEventType.DeleteRowsCompressed;
        var extra = extraData ?? [];
        var body = Concat(
            U48(tableId),
            U16(flags),
            hasExtra ? Concat(U16(2 + extra.Length), extra) : [],
            Packed((ulong)columnCount),
            bitmap,
            isUpdate ? bitmap : [],
            rows);
        return Event(type, body);
    }

    public static byte[] AllPresent(int columns)
    {
        var bitmap = new byte[(columns + 7) / 8];
        for (var i = 0; i < columns; i++)
        {
            bitmap[i / 8] |= (byte)(1 << (i % 8));
        }

        return bitmap;
    }

    /// <summary>A fresh decoder that has seen this builder's FORMAT_DESCRIPTION.</summary>
    public BinlogEventDecoder StartDecoder(BinlogDecoderOptions? options = null)
    {
        var decoder = new BinlogEventDecoder(options);
        decoder.Decode(FormatDescription(), File);
        return decoder;
    }
}
