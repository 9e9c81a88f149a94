using System.Buffers.Binary;
using Replicator.Binlog.Events;
using Replicator.Binlog.Protocol;
using Replicator.Binlog.Vendors.MySql;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// TRANSACTION_PAYLOAD_EVENT (MySQL 8.0.20+, binlog_transaction_compression): a header of
/// type(packed) length(packed) value fields — 1 payload size, 2 compression type (0 zstd,
/// 255 none), 3 uncompressed size — ended by type 0, then the payload: the transaction's events
/// back to back, each with a common header whose log_pos is 0 and without checksums.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Transaction__payload__event.html
/// </summary>
public sealed partial class BinlogEventDecoder
{
    private const int CompressionZstd = 0;
    private const int CompressionNone = 255;

    /// <summary>The header fields of a TRANSACTION_PAYLOAD body, and where its payload starts in the body.</summary>
    private static (int Compression, long UncompressedSize, int PayloadStart) ReadPayloadHeader(ReadOnlySpan<byte> body)
    {
        var reader = new ByteReader(body);
        long payloadSize = -1;
        long uncompressedSize = 0;
        var compression = -1;
        while (true)
        {
            var field = reader.ReadLengthEncodedInteger();
            if (field == 0)
            {
                break;
            }

            var length = checked((int)reader.ReadLengthEncodedInteger());
            var value = new ByteReader(reader.ReadBytes(length));
            switch (field)
            {
                case 1:
                    payloadSize = checked((long)value.ReadLengthEncodedInteger());
                    break;
                case 2:
                    compression = checked((int)value.ReadLengthEncodedInteger());
                    break;
                case 3:
                    uncompressedSize = checked((long)value.ReadLengthEncodedInteger());
                    break;
            }
        }

        if (payloadSize < 0 || compression < 0)
        {
            throw new FormatException("A TRANSACTION_PAYLOAD header lacks its payload size or compression type.");
        }

        if (payloadSize != reader.Remaining)
        {
            throw new FormatException($"A TRANSACTION_PAYLOAD declares {payloadSize} payload bytes but holds {reader.Remaining}.");
        }

        if (compression is not (CompressionZstd or CompressionNone))
        {
            throw new FormatException($"TRANSACTION_PAYLOAD compression type {compression} is not known (0 zstd, 255 none).");
        }

        return (compression, uncompressedSize, body.Length - reader.Remaining);
    }

    private PayloadCursor OpenTransactionPayload(EventHeader header, ReadOnlySpan<byte> body)
    {
        var (compression, uncompressedSize, payloadStart) = ReadPayloadHeader(body);
        var payload = body[payloadStart..];
        byte[] events = compression switch
        {
            CompressionZstd => Zstd.Decompress(payload, uncompressedSize, Options.MaxDecompressedSize),
            CompressionNone => payload.ToArray(),
            _ => throw new FormatException($"TRANSACTION_PAYLOAD compression type {compression} is not known (0 zstd, 255 none)."),
        };

        return new PayloadCursor(compression, uncompressedSize == 0 ? events.Length : uncompressedSize, events);
    }

    private BinlogEvent DecodeInner(ReadOnlyMemory<byte> raw, PayloadCursor cursor, string file, long outerPosition) =>
        DecodeInner(raw, cursor.CurrentOffset, file, borrowed: false);

    /// <param name="borrowed">True when <paramref name="raw"/> is reused after the call (the streaming window).</param>
    private BinlogEvent DecodeInner(ReadOnlyMemory<byte> raw, long payloadOffset, string file, bool borrowed)
    {
        var header = ReadHeader(raw.Span);
        if (header.Type is BinlogEventType.FormatDescription or BinlogEventType.TransactionPayload or BinlogEventType.Rotate)
        {
            throw new FormatException($"A {Describe(header.Type)} event cannot appear inside a TRANSACTION_PAYLOAD (payload offset {payloadOffset}).");
        }

        try
        {
            return DecodeBody(header, raw[(EventHeader.Size + _extraHeaderLength)..], file, borrowed);
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new FormatException($"its inner {Describe(header.Type)} event at payload offset {payloadOffset}: {e.Message}", e);
        }
    }

    /// <summary>Walks the events of a decompressed payload.</summary>
    private sealed class PayloadCursor(int compression, long uncompressedSize, byte[] events)
    {
        private int _offset;

        public int CurrentOffset { get; private set; }

        public bool TryNext(out ReadOnlyMemory<byte> raw)
        {
            if (_offset >= events.Length)
            {
                raw = default;
                return false;
            }

            var remaining = events.Length - _offset;
            if (remaining < EventHeader.Size)
            {
                throw new FormatException($"The payload ends with {remaining} bytes at offset {_offset}, too few for an event header.");
            }

            var size = BinaryPrimitives.ReadUInt32LittleEndian(events.AsSpan(_offset + 9));
            if (size < EventHeader.Size || size > remaining)
            {
                throw new FormatException($"The inner event at payload offset {_offset} claims {size} bytes but {remaining} remain.");
            }

            raw = events.AsMemory(_offset, (int)size);
            CurrentOffset = _offset;
            _offset += (int)size;
            return true;
        }

        public TransactionPayloadEvent ToEvent(EventHeader header, string file, IReadOnlyList<BinlogEvent> inner) =>
            new(header, file, compression, uncompressedSize, inner);
    }
}
