using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// The events a <see cref="NetworkFakeMySqlServer"/> dump sends for the streaming tests: the fake
/// ROTATE, a FORMAT_DESCRIPTION, and the TABLE_MAP of
/// <c>CREATE TABLE db.t (id BIGINT, payload LONGBLOB, note VARCHAR(100) CHARACTER SET utf8mb4)</c>,
/// then rows events built with <see cref="EventBuilder"/>, whose positions follow each other.
/// </summary>
internal sealed class NetworkDumpScript
{
    public const ulong TableId = 42;

    private static readonly ColumnType[] Types = [ColumnType.LongLong, ColumnType.Blob, ColumnType.VarChar];

    // LONGBLOB: 4 length bytes; VARCHAR(100) utf8mb4: at most 400 bytes, so 2 length bytes.
    private static readonly byte[] Metadata = Concat([4], U16(400));

    // COLUMN_CHARSET over the character columns payload and note: binary (63), utf8mb4_general_ci (45).
    private static readonly byte[] Optional = Concat([3], Packed(2), Packed(63), Packed(45));

    private readonly EventBuilder _builder = new();

    public NetworkDumpScript()
    {
        Events.Add(NetworkFakeMySqlServer.FakeRotate(NetworkFakeMySqlServer.BinlogFile, 4));
        Events.Add(_builder.FormatDescription());
        Events.Add(_builder.TableMap(TableId, "db", "t", Types, Metadata, [0x06], Optional));
    }

    public List<byte[]> Events { get; } = [];

    /// <summary>One row image: NULL bitmap (none NULL), id, payload with its 4-byte length, note with its 2-byte length.</summary>
    public static byte[] Row(long id, byte[] payload, string note)
    {
        var text = Utf8(note);
        var row = new byte[1 + 8 + 4 + payload.Length + 2 + text.Length];
        var span = row.AsSpan(1);
        U64((ulong)id).CopyTo(span);
        U32((uint)payload.Length).CopyTo(span[8..]);
        payload.CopyTo(span[12..]);
        U16(text.Length).CopyTo(span[(12 + payload.Length)..]);
        text.CopyTo(span[(14 + payload.Length)..]);
        return row;
    }

    /// <summary>Bytes that differ from one seed to the next, so that a value read from the wrong place shows.</summary>
    public static byte[] Payload(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public byte[] Insert(params (long Id, byte[] Payload, string Note)[] rows) =>
        Add(_builder.Rows(BinlogEventType.WriteRowsV2, TableId, 3, Join(rows.Select(r => Row(r.Id, r.Payload, r.Note)))));

    public byte[] Update(params ((long Id, byte[] Payload, string Note) Before, (long Id, byte[] Payload, string Note) After)[] rows) =>
        Add(_builder.Rows(BinlogEventType.UpdateRowsV2, TableId, 3, Join(rows.SelectMany(r => new[]
        {
            Row(r.Before.Id, r.Before.Payload, r.Before.Note),
            Row(r.After.Id, r.After.Payload, r.After.Note),
        }))));

    public byte[] Xid(ulong xid) => Add(_builder.Xid(xid));

    /// <summary>The size of a one-row WRITE_ROWS event whose payload is empty and note is "": a payload of n bytes adds n.</summary>
    public static int EmptyInsertSize(string note = "") =>
        new EventBuilder().Rows(BinlogEventType.WriteRowsV2, TableId, 3, Row(0, [], note)).Length;

    private byte[] Add(byte[] binlogEvent)
    {
        Events.Add(binlogEvent);
        return binlogEvent;
    }

    private static byte[] Join(IEnumerable<byte[]> parts)
    {
        using var buffer = new MemoryStream();
        foreach (var part in parts)
        {
            buffer.Write(part);
        }

        return buffer.ToArray();
    }
}
