using System.Buffers.Binary;
using System.Text;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;

namespace Replicator.Binlog.Tests.Network;

/// <summary>Just enough event parsing for the network tests to check what the raw stream delivered.</summary>
internal static class NetworkRawEvents
{
    private static readonly uint[] Crc32Table = CreateCrc32Table();

    /// <summary>TABLE_MAP: table_id(6) flags(2) schema length(1) schema NUL table length(1) table NUL …</summary>
    public static (string Schema, string Table) TableMapName(RawBinlogEvent raw)
    {
        Assert.Equal(BinlogEventType.TableMap, raw.Type);
        var offset = EventHeader.Size + 8;
        var schemaLength = raw.Data[offset];
        var schema = Encoding.UTF8.GetString(raw.Data, offset + 1, schemaLength);
        offset += 1 + schemaLength + 1;
        var tableLength = raw.Data[offset];
        var table = Encoding.UTF8.GetString(raw.Data, offset + 1, tableLength);
        return (schema, table);
    }

    public static bool IsTableMapOf(RawBinlogEvent raw, string schema, string table) =>
        raw.Type == BinlogEventType.TableMap && TableMapName(raw) == (schema, table);

    /// <summary>MariaDB GTID_EVENT: sequence(8) domain(4) flags(1) …; the server id is in the header.</summary>
    public static (uint Domain, uint ServerId, ulong Sequence) MariaDbGtid(RawBinlogEvent raw)
    {
        Assert.Equal(BinlogEventType.MariaDbGtid, raw.Type);
        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(raw.Data.AsSpan(EventHeader.Size));
        var domain = BinaryPrimitives.ReadUInt32LittleEndian(raw.Data.AsSpan(EventHeader.Size + 8));
        return (domain, raw.Header.ServerId, sequence);
    }

    public static bool IsWriteRows(RawBinlogEvent raw) =>
        raw.Type is BinlogEventType.WriteRowsV1 or BinlogEventType.WriteRowsV2 or BinlogEventType.WriteRowsCompressedV1 or BinlogEventType.WriteRowsCompressed;

    /// <summary>True when the last 4 bytes are the CRC32 (zlib polynomial) of the rest.</summary>
    public static bool HasValidChecksum(RawBinlogEvent raw)
    {
        var data = raw.Data;
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(data.Length - 4));
        return Crc32(data.AsSpan(0, data.Length - 4)) == stored;
    }

    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc = Crc32Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    public static async Task<List<RawBinlogEvent>> ReadToEndAsync(BinlogDumpStream stream, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(60));
        var events = new List<RawBinlogEvent>();
        await foreach (var raw in stream.ReadAllAsync(timeout.Token))
        {
            events.Add(raw);
        }

        return events;
    }

    private static uint[] CreateCrc32Table()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
