using System.Buffers.Binary;
using Replicator.Binlog.Events;
using Replicator.Binlog.Vendors.MySql;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// TRANSACTION_PAYLOAD read an inner event at a time (<see cref="BinlogDecoderOptions.StreamTransactionPayloads"/>):
/// the zstd data is inflated into a window that holds the event being decoded and what the last
/// inflate step produced after it, so memory is bounded by the largest inner event, not by the
/// transaction. The window and the libzstd stream are reused from one payload to the next.
/// </summary>
public sealed partial class BinlogEventDecoder
{
    /// <summary>The window a streamed payload starts with; it grows only for an inner event larger than it.</summary>
    internal const int InitialPayloadWindow = 64 * 1024;

    /// <summary>A window grown past this for one large inner event is dropped after its payload rather than kept.</summary>
    private const int KeptPayloadWindow = 1024 * 1024;

    private Zstd.StreamDecoder? _zstd;
    private byte[]? _payloadWindow;
    private PayloadStream? _activePayload;

    /// <summary>The largest window a streamed payload has used so far, in bytes (a measure for tests).</summary>
    internal int LargestPayloadWindow { get; private set; }

    /// <summary>
    /// Opens the TRANSACTION_PAYLOAD <paramref name="rawEvent"/> (header, body, checksum) for
    /// <see cref="NextPayloadPart"/>. <paramref name="rawEvent"/> must stay as it is until the last
    /// part is read; the parts' values do not refer to it. Opening another payload ends this one.
    /// </summary>
    internal PayloadStream OpenPayloadStream(ReadOnlyMemory<byte> rawEvent, string file) =>
        OpenPayloadStream(ReadOuterHeader(rawEvent.Span, file), rawEvent, file);

    /// <inheritdoc cref="OpenPayloadStream(ReadOnlyMemory{byte}, string)"/>
    internal PayloadStream OpenPayloadStream(EventHeader header, ReadOnlyMemory<byte> rawEvent, string file)
    {
        _activePayload?.Abandon();
        _activePayload = null;
        try
        {
            var body = OuterBody(rawEvent, header, file);
            var (compression, declared, payloadStart) = ReadPayloadHeader(body.Span);
            byte[]? window = null;
            if (compression == CompressionZstd)
            {
                // The same check the whole-buffer path makes, before anything is allocated.
                if (declared > Options.MaxDecompressedSize)
                {
                    throw new FormatException($"A transaction payload declares {declared} uncompressed bytes, more than the {Options.MaxDecompressedSize} allowed (BinlogDecoderOptions.MaxDecompressedSize; in Replicator, replicator.sources.<name>.max-decompressed-size raises it up to 1GiB).");
                }

                _zstd ??= Zstd.StreamDecoder.Create();
                _zstd.Reset();
                window = _payloadWindow ?? new byte[InitialPayloadWindow];
                _payloadWindow = null;
                LargestPayloadWindow = Math.Max(LargestPayloadWindow, window.Length);
            }

            var stream = new PayloadStream(this, header, file, compression, declared, body[payloadStart..], window);
            _activePayload = stream;
            return stream;
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new BinlogFormatException($"The {Describe(header.Type)} event is malformed: {e.Message}", file, header.Position, e);
        }
        catch (Exception e) when (IsUnexpected(e))
        {
            throw Unexpected(header.Type, e, file, header.Position);
        }
    }

    /// <summary>
    /// The next inner event of <paramref name="stream"/>, or null after its last one (when the
    /// inflated size has been checked against the declared one). A malformed payload fails with a
    /// <see cref="BinlogFormatException"/> naming the outer event's file and position, before the
    /// part it spoils: a transaction cut short never yields its closing event.
    /// </summary>
    internal TransactionPayloadPart? NextPayloadPart(PayloadStream stream)
    {
        try
        {
            return stream.Next();
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            stream.Abandon();
            throw new BinlogFormatException($"The {Describe(stream.Header.Type)} event is malformed: {e.Message}", stream.File, stream.Header.Position, e);
        }
        catch (Exception e) when (IsUnexpected(e))
        {
            stream.Abandon();
            throw Unexpected(stream.Header.Type, e, stream.File, stream.Header.Position);
        }
    }

    /// <summary>Takes back the window of a payload read to its end, to reuse unless it grew large.</summary>
    private void EndPayload(PayloadStream stream, byte[]? window)
    {
        if (ReferenceEquals(_activePayload, stream))
        {
            _activePayload = null;
        }

        if (window is not null && window.Length <= KeptPayloadWindow && _payloadWindow is null)
        {
            _payloadWindow = window;
        }
    }

    /// <summary>One TRANSACTION_PAYLOAD being read an inner event at a time.</summary>
    internal sealed class PayloadStream
    {
        private readonly BinlogEventDecoder _decoder;
        private readonly int _compression;
        private readonly long _declared;
        private readonly long _size;
        private readonly long _limit;
        private readonly ReadOnlyMemory<byte> _input;
        private byte[]? _window;
        private int _inputPosition;
        private int _start;
        private int _end;
        private long _offset;
        private long _produced;
        private bool _inputDone;
        private bool _finished;
        private int _index;

        /// <param name="window">The window to inflate into, or null for an uncompressed payload (read where it is).</param>
        public PayloadStream(BinlogEventDecoder decoder, EventHeader header, string file, int compression, long declared, ReadOnlyMemory<byte> payload, byte[]? window)
        {
            _decoder = decoder;
            Header = header;
            File = file;
            _compression = compression;
            _declared = declared;
            // The payload's uncompressed length when known (0 when not): what each inner event is checked against.
            _size = window is null ? payload.Length : declared;
            _limit = declared > 0 ? declared : decoder.Options.MaxDecompressedSize;
            _input = payload;
            _window = window;
            if (window is null)
            {
                _end = payload.Length;
                _produced = payload.Length;
                _inputDone = true;
            }
        }

        public EventHeader Header { get; }

        public string File { get; }

        /// <summary>The bytes the window holds now (the inner event being read and what follows it).</summary>
        private ReadOnlyMemory<byte> Buffer => _window is null ? _input : _window;

        public TransactionPayloadPart? Next()
        {
            if (_finished)
            {
                return null;
            }

            if (!Fill(EventHeader.Size))
            {
                var available = _end - _start;
                if (available == 0)
                {
                    Finish();
                    return null;
                }

                throw new FormatException($"The payload ends with {available} bytes at offset {_offset}, too few for an event header.");
            }

            var size = BinaryPrimitives.ReadUInt32LittleEndian(Buffer.Span[(_start + 9)..]);
            if (size < EventHeader.Size || size > MaxEventSize || (_size > 0 && size > _size - _offset))
            {
                var remaining = _size > 0 ? _size - _offset : _end - _start;
                throw new FormatException($"The inner event at payload offset {_offset} claims {size} bytes but {remaining} remain.");
            }

            if (!Fill((int)size))
            {
                throw new FormatException($"The inner event at payload offset {_offset} claims {size} bytes but {_end - _start} remain.");
            }

            var at = _offset;
            // Decoded as borrowed: the window is overwritten by the next inflate step.
            var inner = _decoder.DecodeInner(Buffer.Slice(_start, (int)size), at, File, borrowed: true);
            _start += (int)size;
            _offset += size;
            var last = !Fill(1);
            if (last)
            {
                // Before the last event (a transaction's XID) is handed out: a payload that inflates
                // to other than it declares fails here, and its transaction never closes.
                Finish();
            }

            var uncompressed = _declared > 0 ? _declared : _produced;
            return new TransactionPayloadPart(Header, File, _compression, uncompressed, _index++, at, last, inner);
        }

        /// <summary>Marks the payload as given up (another opened, or a failure): it yields nothing more.</summary>
        public void Abandon()
        {
            _finished = true;
            _window = null;
        }

        /// <summary>Inflates until the window holds <paramref name="count"/> bytes from the current event on; false when the payload ends first.</summary>
        private bool Fill(int count)
        {
            if (_window is null || _finished)
            {
                return _end - _start >= count;
            }

            while (_end - _start < count)
            {
                if (_inputDone)
                {
                    return false;
                }

                if (_window.Length - _start < count || _end == _window.Length)
                {
                    MakeRoom(count);
                }

                var consumedBefore = _inputPosition;
                var written = _decoder._zstd!.Decompress(_input.Span, ref _inputPosition, _window.AsSpan(_end));
                _end += written;
                _produced += written;
                if (_produced > _limit)
                {
                    throw new FormatException(_declared > 0
                        ? $"A transaction payload decompresses to more than the {_declared} bytes its header declares."
                        : $"A transaction payload decompresses to more than {_limit} bytes.");
                }

                var inputLeft = _inputPosition < _input.Length;
                if (!inputLeft && _decoder._zstd.FramesComplete)
                {
                    _inputDone = true;
                }
                else if (written == 0 && !inputLeft)
                {
                    throw new FormatException("A transaction payload's zstd data ends in the middle of a frame.");
                }
                else if (written == 0 && _inputPosition == consumedBefore)
                {
                    // libzstd always moves when it has room and input; this guards against a loop that never ends.
                    throw new FormatException($"zstd made no progress at compressed byte {_inputPosition} of the payload.");
                }
            }

            return true;
        }

        /// <summary>Moves the unread bytes to the window's start, growing it when one event needs more than it holds.</summary>
        private void MakeRoom(int count)
        {
            var unread = _end - _start;
            var window = _window!;
            if (window.Length < count)
            {
                var grown = (int)Math.Max(count, Math.Min(window.Length * 2L, Math.Min(_limit, MaxEventSize)));
                var larger = new byte[grown];
                window.AsSpan(_start, unread).CopyTo(larger);
                _window = larger;
                _decoder.LargestPayloadWindow = Math.Max(_decoder.LargestPayloadWindow, grown);
            }
            else if (_start > 0)
            {
                window.AsSpan(_start, unread).CopyTo(window);
            }

            _start = 0;
            _end = unread;
        }

        private void Finish()
        {
            var window = _window;
            _finished = true;
            _window = null;
            _decoder.EndPayload(this, window);
            if (_compression == CompressionZstd && _declared > 0 && _produced != _declared)
            {
                throw new FormatException($"A transaction payload decompressed to {_produced} bytes, not the {_declared} its header declares.");
            }
        }
    }
}
