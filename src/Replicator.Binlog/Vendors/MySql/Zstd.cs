using System.Runtime.InteropServices;

namespace Replicator.Binlog.Vendors.MySql;

/// <summary>
/// zstd decompression through the system's libzstd (Debian's libzstd1, present wherever dpkg is),
/// for TRANSACTION_PAYLOAD events. Streaming API: https://facebook.github.io/zstd/zstd_manual.html
/// </summary>
/// <remarks>
/// The reference implementation rather than a managed port (ZstdSharp.Port): what is hand-written
/// here is only the binding of four functions, and its streaming call already inflates into any
/// output span the caller gives, which is what reading a payload an inner event at a time needs.
/// </remarks>
internal static unsafe partial class Zstd
{
    private const string Library = "libzstd.so.1";

    /// <summary>
    /// Decompresses every frame of <paramref name="compressed"/>. <paramref name="expectedSize"/>
    /// (the event's uncompressed size) sizes the output; the result must match it exactly when given.
    /// </summary>
    public static byte[] Decompress(ReadOnlySpan<byte> compressed, long expectedSize, long maxSize)
    {
        if (expectedSize > maxSize)
        {
            throw new FormatException($"A transaction payload declares {expectedSize} uncompressed bytes, more than the {maxSize} allowed (BinlogDecoderOptions.MaxDecompressedSize; in Replicator, replicator.sources.<name>.max-decompressed-size raises it up to 1GiB).");
        }

        // Grown as the bytes come, up to the declared size (or the limit): a header that declares
        // hundreds of megabytes for a few bytes of data allocates only what they inflate to.
        var limit = expectedSize > 0 ? expectedSize : maxSize;
        var output = new byte[Math.Min(limit, Math.Max(1024, compressed.Length * 4L))];
        long produced = 0;
        IntPtr stream;
        try
        {
            stream = ZSTD_createDStream();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new InvalidOperationException(
                $"Reading TRANSACTION_PAYLOAD events (binlog_transaction_compression=ON) needs the system zstd library {Library} (Debian/Ubuntu package libzstd1).", e);
        }


        if (stream == IntPtr.Zero)
        {
            throw new InvalidOperationException("libzstd could not create a decompression stream.");
        }

        try
        {
            Check(ZSTD_initDStream(stream));
            fixed (byte* source = compressed)
            {
                var input = new InBuffer { Source = source, Size = (nuint)compressed.Length, Position = 0 };
                nuint hint = 1;
                while (true)
                {
                    if (produced == output.Length)
                    {
                        if (input.Position == input.Size && hint == 0)
                        {
                            break;
                        }

                        if (output.Length >= limit)
                        {
                            throw new FormatException($"A transaction payload decompresses to more than {limit} bytes (BinlogDecoderOptions.MaxDecompressedSize; in Replicator, replicator.sources.<name>.max-decompressed-size raises it up to 1GiB).");
                        }

                        Array.Resize(ref output, (int)Math.Min(limit, output.Length * 2L));
                    }

                    nuint written;
                    fixed (byte* destination = output)
                    {
                        var outBuffer = new OutBuffer { Destination = destination + produced, Size = (nuint)(output.Length - produced), Position = 0 };
                        hint = Check(ZSTD_decompressStream(stream, &outBuffer, &input));
                        written = outBuffer.Position;
                        produced += (long)written;
                    }

                    // 0 means every frame so far is complete and flushed.
                    if (input.Position == input.Size && hint == 0)
                    {
                        break;
                    }

                    if (input.Position == input.Size && written == 0 && produced < output.Length)
                    {
                        throw new FormatException("A transaction payload's zstd data ends in the middle of a frame.");
                    }
                }
            }
        }
        finally
        {
            ZSTD_freeDStream(stream);
        }

        if (expectedSize > 0 && produced != expectedSize)
        {
            throw new FormatException($"A transaction payload decompressed to {produced} bytes, not the {expectedSize} its header declares.");
        }

        if (produced != output.Length)
        {
            Array.Resize(ref output, (int)produced);
        }

        return output;
    }

    /// <summary>
    /// One libzstd decompression stream, fed a compressed buffer and drained into output spans of
    /// the caller's choosing: what lets a TRANSACTION_PAYLOAD be read an inner event at a time
    /// through a small reused window rather than inflated whole. libzstd keeps its own frame
    /// window (native memory, at most what the frame header declares); the stream is reset and
    /// reused for each payload.
    /// </summary>
    internal sealed class StreamDecoder : IDisposable
    {
        private IntPtr _handle;

        private StreamDecoder(IntPtr handle)
        {
            _handle = handle;
        }

        ~StreamDecoder()
        {
            Free();
        }

        /// <summary>Whether every frame given so far is complete and flushed (libzstd's 0 hint).</summary>
        public bool FramesComplete { get; private set; } = true;

        public static StreamDecoder Create()
        {
            IntPtr handle;
            try
            {
                handle = ZSTD_createDStream();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                throw new InvalidOperationException(
                    $"Reading TRANSACTION_PAYLOAD events (binlog_transaction_compression=ON) needs the system zstd library {Library} (Debian/Ubuntu package libzstd1).", e);
            }

            if (handle == IntPtr.Zero)
            {
                throw new InvalidOperationException("libzstd could not create a decompression stream.");
            }

            return new StreamDecoder(handle);
        }

        /// <summary>Starts a new payload: forgets any frame left half read.</summary>
        public void Reset()
        {
            ObjectDisposedException.ThrowIf(_handle == IntPtr.Zero, this);
            Check(ZSTD_initDStream(_handle));
            FramesComplete = true;
        }

        /// <summary>
        /// Decompresses from <paramref name="input"/> at <paramref name="inputPosition"/> (advanced
        /// past what was consumed) into <paramref name="output"/>; returns the bytes written.
        /// </summary>
        public int Decompress(ReadOnlySpan<byte> input, ref int inputPosition, Span<byte> output)
        {
            ObjectDisposedException.ThrowIf(_handle == IntPtr.Zero, this);
            fixed (byte* source = input)
            fixed (byte* destination = output)
            {
                var inBuffer = new InBuffer { Source = source, Size = (nuint)input.Length, Position = (nuint)inputPosition };
                var outBuffer = new OutBuffer { Destination = destination, Size = (nuint)output.Length, Position = 0 };
                var hint = Check(ZSTD_decompressStream(_handle, &outBuffer, &inBuffer));
                FramesComplete = hint == 0;
                inputPosition = (int)inBuffer.Position;
                return (int)outBuffer.Position;
            }
        }

        public void Dispose()
        {
            Free();
            GC.SuppressFinalize(this);
        }

        private void Free()
        {
            if (_handle != IntPtr.Zero)
            {
                ZSTD_freeDStream(_handle);
                _handle = IntPtr.Zero;
            }
        }
    }

    private static nuint Check(nuint code)
    {
        if (ZSTD_isError(code) != 0)
        {
            var name = Marshal.PtrToStringUTF8(ZSTD_getErrorName(code)) ?? "unknown error";
            throw new FormatException($"zstd could not decompress a transaction payload: {name}.");
        }

        return code;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct InBuffer
    {
        public byte* Source;
        public nuint Size;
        public nuint Position;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OutBuffer
    {
        public byte* Destination;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Library)]
    private static partial IntPtr ZSTD_createDStream();

    [LibraryImport(Library)]
    private static partial nuint ZSTD_freeDStream(IntPtr stream);

    [LibraryImport(Library)]
    private static partial nuint ZSTD_initDStream(IntPtr stream);

    [LibraryImport(Library)]
    private static partial nuint ZSTD_decompressStream(IntPtr stream, OutBuffer* output, InBuffer* input);

    [LibraryImport(Library)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    private static partial IntPtr ZSTD_getErrorName(nuint code);
}
