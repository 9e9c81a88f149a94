using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// The CRC-32 binlog events end with when <c>binlog_checksum=CRC32</c>: zlib's CRC-32 (reflected
/// polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF), computed over the header and body.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
/// </summary>
/// <remarks>
/// Slice-by-8: eight 256-entry tables let the loop fold eight input bytes per step with eight
/// independent table lookups instead of one dependent lookup per byte.
/// </remarks>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;

    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(0xFFFFFFFFu, data);

    /// <summary>Continues a running (pre-inverted) CRC over more data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var table = Table.AsSpan();
        ref var t = ref table[0];
        while (data.Length >= 8)
        {
            var low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            var high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = Unsafe.Add(ref t, (7 * 256) + (int)(low & 0xFF))
                ^ Unsafe.Add(ref t, (6 * 256) + (int)((low >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (int)((low >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (4 * 256) + (int)(low >> 24))
                ^ Unsafe.Add(ref t, (3 * 256) + (int)(high & 0xFF))
                ^ Unsafe.Add(ref t, (2 * 256) + (int)((high >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 256 + (int)((high >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (int)(high >> 24));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = table[(int)((crc ^ b) & 0xFF)] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildTable()
    {
        // Table k maps a byte to the CRC of that byte followed by k zero bytes.
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var crc = i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            }

            table[i] = crc;
        }

        for (var k = 1; k < 8; k++)
        {
            for (var i = 0; i < 256; i++)
            {
                var previous = table[((k - 1) * 256) + i];
                table[(k * 256) + i] = (previous >> 8) ^ table[(int)(previous & 0xFF)];
            }
        }

        return table;
    }
}
