using System.IO.Compression;

namespace Replicator.Binlog.Vendors.MariaDb;

/// <summary>
/// MariaDB's compressed binlog records (log_bin_compress; QUERY_COMPRESSED_EVENT and the
/// *_ROWS_COMPRESSED events, https://mariadb.com/kb/en/compressing-events-to-reduce-size-of-the-binary-log/).
/// A record is one header byte — bit 7 set (compressed), bits 4-6 the algorithm (0 = zlib), bits
/// 0-2 the number of length bytes (1-4) — then the uncompressed length big-endian in that many
/// bytes, then a zlib stream (RFC 1950) of the original bytes.
/// </summary>
internal static class MariaDbCompression
{
    private const long MaxDeflateRatio = 1032;

    /// <summary>The uncompressed bytes of one record, which must fill <paramref name="record"/> exactly.</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> record, int maxSize)
    {
        if (record.IsEmpty)
        {
            throw new FormatException("A compressed record is empty.");
        }

        var header = record[0];
        if ((header & 0x80) == 0)
        {
            throw new FormatException($"A compressed record header 0x{header:X2} lacks the compressed bit.");
        }

        var algorithm = (header >> 4) & 0x07;
        if (algorithm != 0)
        {
            throw new FormatException($"Compression algorithm {algorithm} is not known (only 0, zlib).");
        }

        var lengthBytes = header & 0x07;
        if (lengthBytes is < 1 or > 4 || record.Length < 1 + lengthBytes)
        {
            throw new FormatException($"A compressed record header declares {lengthBytes} length bytes.");
        }

        long length = 0;
        for (var i = 1; i <= lengthBytes; i++)
        {
            length = (length << 8) | record[i];
        }

        if (length > maxSize)
        {
            throw new FormatException($"A compressed record declares {length} uncompressed bytes, more than the {maxSize} allowed (BinlogDecoderOptions.MaxDecompressedSize; in Replicator, replicator.sources.<name>.max-decompressed-size raises it up to 1GiB).");
        }

        // Deflate expands at most 1032:1 (RFC 1951's longest match per shortest code): a header
        // declaring more than its compressed bytes can hold is refused before anything is allocated.
        var compressedLength = record.Length - 1 - lengthBytes;
        if (length > (compressedLength * MaxDeflateRatio) + 64)
        {
            throw new FormatException($"A compressed record declares {length} uncompressed bytes, more than its {compressedLength} compressed bytes can hold.");
        }

        // Inflated as the bytes come: memory follows what the data holds, not what the header says.
        var output = new byte[(int)Math.Min(length, Math.Max(256L, compressedLength * 4L))];
        var compressed = record[(1 + lengthBytes)..].ToArray();
        using var stream = new ZLibStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
        var read = 0;
        try
        {
            while (read < length)
            {
                if (read == output.Length)
                {
                    Array.Resize(ref output, (int)Math.Min(length, output.Length * 2L));
                }

                var n = stream.Read(output, read, output.Length - read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            if (read != length || stream.ReadByte() >= 0)
            {
                throw new FormatException($"A compressed record does not inflate to the {length} bytes its header declares.");
            }
        }
        catch (InvalidDataException e)
        {
            throw new FormatException($"A compressed record is not valid zlib data: {e.Message}", e);
        }

        return output;
    }
}
