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
    public static IAsyncEnumerable<BinlogEvent> ReadAsync(
        string path,
        ITableSchemaSource? schemaSource = null,
        BinlogDecoderOptions? options = null,
        CancellationToken cancellationToken = default) =>
        ReadCoreAsync(path, Magic.Length, schemaSource, options, cancellationToken);

    /// <summary>
    /// The events of <paramref name="path"/> from <paramref name="fromPosition"/> on, as a dump from
    /// that position gives them: the file's FORMAT_DESCRIPTION first (it says how every later event
    /// is laid out and checksummed), then the event at <paramref name="fromPosition"/> and the rest.
    /// The events in between are skipped unread, by their headers; a position that is not the start
    /// of an event is refused.
    /// </summary>
    public static IAsyncEnumerable<BinlogEvent> ReadAsync(
        string path,
        long fromPosition,
        ITableSchemaSource? schemaSource = null,
        BinlogDecoderOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (fromPosition < Magic.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(fromPosition), fromPosition, $"A binlog position is at least {Magic.Length}, after the magic bytes.");
        }

        return ReadCoreAsync(path, fromPosition, schemaSource, options, cancellationToken);
    }

    private static async IAsyncEnumerable<BinlogEvent> ReadCoreAsync(
        string path,
        long fromPosition,
        ITableSchemaSource? schemaSource,
        BinlogDecoderOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
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

            var start = position;
            position += size;
            if (decoder.Options.StreamTransactionPayloads && raw[4] == (byte)BinlogEventType.TransactionPayload)
            {
                // One part per inner event: the payload is inflated as they are read, never whole.
                var payload = decoder.OpenPayloadStream(raw, file);
                var any = false;
                while (decoder.NextPayloadPart(payload) is { } part)
                {
                    any = true;
                    yield return await CompleteAsync(decoder, part, schemaSource, cancellationToken).ConfigureAwait(false);
                }

                if (!any)
                {
                    // An empty payload is still an event.
                    yield return await decoder.DecodeAsync(raw, file, schemaSource, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            yield return await decoder.DecodeAsync(raw, file, schemaSource, cancellationToken).ConfigureAwait(false);
            if (start == Magic.Length && fromPosition > Magic.Length)
            {
                // The first event (the FORMAT_DESCRIPTION every later event needs) is read; skip to the start.
                if (fromPosition < position)
                {
                    throw new BinlogFormatException($"The start position {fromPosition} is inside the first event ({size} bytes), not at the start of an event", file, start);
                }

                position = await SkipToAsync(stream, position, fromPosition, header, file, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A part whose inner event is a TABLE_MAP, with the schema <paramref name="schemaSource"/> completes (which the decoder then uses for its rows).</summary>
    private static async ValueTask<BinlogEvent> CompleteAsync(BinlogEventDecoder decoder, TransactionPayloadPart part, ITableSchemaSource? schemaSource, CancellationToken cancellationToken)
    {
        if (schemaSource is null || part.Event is not TableMapEvent map)
        {
            return part;
        }

        var completed = await decoder.CompleteAsync(map, schemaSource, cancellationToken).ConfigureAwait(false);
        return ReferenceEquals(completed, map) ? part : part with { Event = completed };
    }

    /// <summary>Walks the event headers from <paramref name="position"/> to <paramref name="target"/>, which must be an event's start.</summary>
    private static async ValueTask<long> SkipToAsync(FileStream stream, long position, long target, byte[] header, string file, CancellationToken cancellationToken)
    {
        while (position < target)
        {
            var headerRead = await ReadFullyAsync(stream, header, cancellationToken).ConfigureAwait(false);
            if (headerRead < header.Length)
            {
                throw new BinlogFormatException($"The file ends at {position}, before the start position {target}", file, position);
            }

            var size = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(9));
            if (size < EventHeader.Size || size > BinlogEventDecoder.MaxEventSize)
            {
                throw new BinlogFormatException($"An event header declares {size} bytes, which no event can be", file, position);
            }

            if (position + size > target)
            {
                throw new BinlogFormatException($"The start position {target} is inside the event at {position} ({size} bytes), not at the start of an event", file, position);
            }

            position += size;
            stream.Seek(position, SeekOrigin.Begin);
        }

        return position;
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
