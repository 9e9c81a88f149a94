namespace Replicator.Binlog.Parsers;

/// <summary>
/// The CRC-32 binlog events end with when <c>binlog_checksum=CRC32</c>: zlib's CRC-32 (reflected
/// polynomial 0xEDB88320, initial value and final xor 0xFFFFFFFF), computed over the header and body.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
/// </summary>
/// <remarks>
/// System.IO.Hashing's CRC-32 is this one, vectorised on x64 and Arm64; it replaced a hand-written
/// PCLMULQDQ fold here once the capture benchmark showed it no slower.
/// </remarks>
internal static class Crc32
{
    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => System.IO.Hashing.Crc32.HashToUInt32(data);
}
