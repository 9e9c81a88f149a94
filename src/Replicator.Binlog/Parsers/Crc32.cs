using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// The CRC-32 binlog events end with when <c>binlog_checksum=CRC32</c>: zlib's CRC-32 (reflected
/// polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF), computed over the header and body.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
/// </summary>
/// <remarks>
/// On x86 with PCLMULQDQ, inputs of 64 bytes and more are folded 64 bytes per step with carry-less
/// multiplication (Intel, "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
/// Instruction", 2009; the constants are those of the reflected 0xEDB88320 polynomial), then
/// reduced to 32 bits with a Barrett reduction. The rest, and other CPUs, use slice-by-8: eight
/// 256-entry tables fold eight input bytes per step with eight independent table lookups.
/// </remarks>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;

    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(0xFFFFFFFFu, data);

    /// <summary>The table-driven computation alone (tests compare the two).</summary>
    internal static uint ComputeScalar(ReadOnlySpan<byte> data) => ~AppendScalar(0xFFFFFFFFu, data);

    private static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        if (Pclmulqdq.IsSupported && Sse41.IsSupported && data.Length >= 64)
        {
            var folded = data.Length & ~15;
            crc = AppendFolded(crc, data[..folded]);
            data = data[folded..];
        }

        return AppendScalar(crc, data);
    }

    /// <summary>Folds a multiple of 16 bytes, at least 64, into the CRC register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint AppendFolded(uint crc, ReadOnlySpan<byte> data)
    {
        // x^(4*128+32) mod P, x^(4*128-32) mod P (fold by 512 bits); x^(128+32), x^(128-32) (by 128);
        // x^64 mod P; and P with the Barrett constant floor(x^64 / P), all bit-reflected.
        var k1k2 = Vector128.Create(0x0154442bd4UL, 0x01c6e41596UL);
        var k3k4 = Vector128.Create(0x01751997d0UL, 0x00ccaa009eUL);
        var k5 = Vector128.Create(0x0163cd6124UL, 0UL);
        var poly = Vector128.Create(0x01db710641UL, 0x01f7011641UL);
        var low32 = Vector128.Create(~0u, 0u, ~0u, 0u).AsUInt64();

        var x1 = Load(data, 0) ^ Vector128.CreateScalar(crc).AsUInt64();
        var x2 = Load(data, 16);
        var x3 = Load(data, 32);
        var x4 = Load(data, 48);
        var offset = 64;
        while (data.Length - offset >= 64)
        {
            x1 = Fold(x1, k1k2) ^ Load(data, offset);
            x2 = Fold(x2, k1k2) ^ Load(data, offset + 16);
            x3 = Fold(x3, k1k2) ^ Load(data, offset + 32);
            x4 = Fold(x4, k1k2) ^ Load(data, offset + 48);
            offset += 64;
        }

        x1 = Fold(x1, k3k4) ^ x2;
        x1 = Fold(x1, k3k4) ^ x3;
        x1 = Fold(x1, k3k4) ^ x4;
        while (data.Length - offset >= 16)
        {
            x1 = Fold(x1, k3k4) ^ Load(data, offset);
            offset += 16;
        }

        // 128 bits to 64, then the Barrett reduction to 32.
        var x = Pclmulqdq.CarrylessMultiply(x1, k3k4, 0x10) ^ Sse2.ShiftRightLogical128BitLane(x1, 8);
        x = Pclmulqdq.CarrylessMultiply(x & low32, k5, 0x00) ^ Sse2.ShiftRightLogical128BitLane(x, 4);
        var t = Pclmulqdq.CarrylessMultiply(x & low32, poly, 0x10) & low32;
        t = Pclmulqdq.CarrylessMultiply(t, poly, 0x00);
        return Sse41.Extract((x ^ t).AsUInt32(), 1);

        static Vector128<ulong> Load(ReadOnlySpan<byte> data, int offset) => Vector128.Create(data.Slice(offset, 16)).AsUInt64();

        static Vector128<ulong> Fold(Vector128<ulong> x, Vector128<ulong> k) =>
            Pclmulqdq.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.CarrylessMultiply(x, k, 0x11);
    }

    /// <summary>Continues a running (pre-inverted) CRC over more data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint AppendScalar(uint crc, ReadOnlySpan<byte> data)
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
