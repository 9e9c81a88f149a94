using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;

namespace Replicator.Binlog.Parsers;

/// <summary>Reads binlog files from disk with the same decoder the network path uses.</summary>
public static class BinlogFileReader
{
    /// <summary>The 4 bytes every binlog file starts with: 0xFE 'b' 'i' 'n'.</summary>
    public static ReadOnlySpan<byte> Magic => [0xFE, (byte)'b', (byte)'i', (byte)'n'];

    /// <summary>
    /// The events of <paramref name="path"/> in order, after checking its 4-byte magic header.
    /// Events are read one at a time, so memory stays bounded by the largest event. When
    /// <paramref name="schemaSource"/> is given it is awaited after each TABLE_MAP, before the rows
    /// that follow are decoded.
    /// </summary>
    public static async IAsyncEnumerable<BinlogEvent> ReadAsync(
        string path,
        ITableSchemaSource? schemaSource = null,
        BinlogDecoderOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var file = Path.GetFileName(path);
        var decoder = new BinlogEventDecoder(options);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);

        var magic = new byte[Magic.Length];
        var magicRead = await ReadFullyAsync(stream, magic, cancellationToken).ConfigureAwait(false);
        if (magicRead != magic.Length || !Magic.SequenceEqual(magic))
        {
            throw new BinlogFormatException($"{file} is not a binlog file: it does not start with the magic bytes FE 62 69 6E", file, 0);
        }

        long position = Magic.Length;
        var header = new byte[EventHeader.Size];
        while (true)
        {
            var headerRead = await ReadFullyAsync(stream, header, cancellationToken).ConfigureAwait(false);
            if (headerRead == 0)
            {
                yield break;
            }

            if (headerRead < header.Length)
            {
                throw new BinlogFormatException($"The file ends inside an event header ({headerRead} of {EventHeader.Size} bytes)", file, position);
            }

            var size = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(9));
            if (size < EventHeader.Size || size > BinlogEventDecoder.MaxEventSize)
            {
                throw new BinlogFormatException($"An event header declares {size} bytes, which no event can be", file, position);
            }

            // A fresh buffer per event: decoded values and unknown events may refer to it.
            var raw = new byte[size];
            header.CopyTo(raw, 0);
            var bodyRead = await ReadFullyAsync(stream, raw.AsMemory(EventHeader.Size), cancellationToken).ConfigureAwait(false);
            if (bodyRead < raw.Length - EventHeader.Size)
            {
                throw new BinlogFormatException(
                    $"The file ends inside a {BinlogEventDecoder.Describe((BinlogEventType)raw[4])} event ({EventHeader.Size + bodyRead} of {size} bytes)",
                    file,
                    position);
            }

            if (raw[4] == (byte)BinlogEventType.StartEncryption)
            {
                // MariaDB encrypt_binlog: what follows is ciphertext only the server can read.
                throw new BinlogFormatException($"{file} is encrypted (START_ENCRYPTION_EVENT); read it through the server instead", file, position);
            }

            yield return await decoder.DecodeAsync(raw, file, schemaSource, cancellationToken).ConfigureAwait(false);
            position += size;
        }
    }

    private static async ValueTask<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
