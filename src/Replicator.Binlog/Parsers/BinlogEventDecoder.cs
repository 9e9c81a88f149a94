using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Protocol;
using Replicator.Binlog.Vendors.MariaDb;
using Replicator.Binlog.Vendors.MySql;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// Turns raw binlog events (common header + body + checksum) into <see cref="BinlogEvent"/>s. It
/// keeps the state a stream needs: the current FORMAT_DESCRIPTION and the table map of each table
/// id. The network client and the offline file reader both feed it, so both decode identically.
/// </summary>
/// <remarks>
/// Event layouts: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
/// and https://mariadb.com/kb/en/replication-protocol/. A decoder is not thread-safe: one stream, one decoder.
/// </remarks>
public sealed partial class BinlogEventDecoder
{
    /// <summary>No event is larger than MySQL's 1 GiB max_allowed_packet ceiling.</summary>
    internal const int MaxEventSize = 1 << 30;

    private const int ChecksumLength = 4;
    private const int FlagsOffset = 17;
    private const int BinlogInUseFlag = 0x0001;

    private readonly Dictionary<ulong, TableState> _tables = new();
    private int _extraHeaderLength;

    public BinlogDecoderOptions Options { get; }

    public BinlogEventDecoder(BinlogDecoderOptions? options = null)
    {
        Options = options ?? BinlogDecoderOptions.Default;
    }

    /// <summary>The last FORMAT_DESCRIPTION_EVENT seen, null before the first.</summary>
    public FormatDescriptionEvent? Format { get; private set; }

    /// <summary>
    /// Whether events carry a trailing CRC32. Each FORMAT_DESCRIPTION sets it; before the first one
    /// the network client sets it from the server's <c>@@binlog_checksum</c>, because the artificial
    /// ROTATE a dump starts with already carries the checksum the client announced.
    /// </summary>
    public ChecksumAlgorithm Checksum { get; set; } = ChecksumAlgorithm.None;

    /// <summary>The table id → TABLE_MAP bindings currently known (cleared on ROTATE and FORMAT_DESCRIPTION).</summary>
    public int KnownTableCount => _tables.Count;

    /// <summary>Decodes one event. <paramref name="rawEvent"/> must be owned by the caller and not reused: values may refer to it.</summary>
    public BinlogEvent Decode(ReadOnlyMemory<byte> rawEvent, string file) =>
        Decode(ReadOuterHeader(rawEvent.Span, file), rawEvent, file, borrowed: false);

    /// <summary>
    /// Decodes one event from memory the caller reuses afterwards (a connection's read buffer):
    /// what the event keeps of its bytes is copied. <paramref name="header"/> is the event's common
    /// header, already read by the caller, who also checked that its size is the event's length.
    /// </summary>
    internal BinlogEvent DecodeBorrowed(EventHeader header, ReadOnlyMemory<byte> rawEvent, string file)
    {
        Debug.Assert(header.EventSize == rawEvent.Length, "the caller checks the event size");
        return Decode(header, rawEvent, file, borrowed: true);
    }

    private BinlogEvent Decode(EventHeader header, ReadOnlyMemory<byte> rawEvent, string file, bool borrowed)
    {
        var position = header.Position;
        try
        {
            if (header.Type == BinlogEventType.FormatDescription)
            {
                return DecodeFormatDescription(header, rawEvent.Span, file);
            }

            var body = OuterBody(rawEvent, header, file);
            if (header.Type == BinlogEventType.TransactionPayload)
            {
                var cursor = OpenTransactionPayload(header, body.Span);
                var events = new List<BinlogEvent>();
                while (cursor.TryNext(out var inner))
                {
                    events.Add(DecodeInner(inner, cursor, file, position));
                }

                return cursor.ToEvent(header, file, events);
            }

            return DecodeBody(header, body, file, borrowed);
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new BinlogFormatException($"The {Describe(header.Type)} event is malformed: {e.Message}", file, position, e);
        }
        catch (Exception e) when (IsUnexpected(e))
        {
            throw Unexpected(header.Type, e, file, position);
        }
    }

    /// <summary>
    /// Decodes one event and, after every TABLE_MAP (including those inside a TRANSACTION_PAYLOAD),
    /// awaits <paramref name="schemaSource"/> and uses what it returns for the rows that follow.
    /// A returned TABLE_MAP carries the completed schema.
    /// </summary>
    public async ValueTask<BinlogEvent> DecodeAsync(
        ReadOnlyMemory<byte> rawEvent,
        string file,
        ITableSchemaSource? schemaSource,
        CancellationToken cancellationToken = default)
    {
        if (schemaSource is null)
        {
            return Decode(rawEvent, file);
        }

        if (rawEvent.Length <= 4 || rawEvent.Span[4] != (byte)BinlogEventType.TransactionPayload)
        {
            var decoded = Decode(rawEvent, file);
            return decoded is TableMapEvent map ? await CompleteAsync(map, schemaSource, cancellationToken).ConfigureAwait(false) : decoded;
        }

        var header = ReadOuterHeader(rawEvent.Span, file);
        var position = header.Position;
        PayloadCursor cursor;
        try
        {
            var body = OuterBody(rawEvent, header, file);
            cursor = OpenTransactionPayload(header, body.Span);
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new BinlogFormatException($"The {Describe(header.Type)} event is malformed: {e.Message}", file, position, e);
        }

        var events = new List<BinlogEvent>();
        while (true)
        {
            BinlogEvent inner;
            try
            {
                if (!cursor.TryNext(out var raw))
                {
                    break;
                }

                inner = DecodeInner(raw, cursor, file, position);
            }
            catch (Exception e) when (IsDecodeFailure(e))
            {
                throw new BinlogFormatException($"The {Describe(header.Type)} event is malformed: {e.Message}", file, position, e);
            }
            catch (Exception e) when (IsUnexpected(e))
            {
                throw Unexpected(header.Type, e, file, position);
            }

            if (inner is TableMapEvent map)
            {
                inner = await CompleteAsync(map, schemaSource, cancellationToken).ConfigureAwait(false);
            }

            events.Add(inner);
        }

        return cursor.ToEvent(header, file, events);
    }

    /// <summary>
    /// Replaces the schema used for a table id's rows, after an <see cref="ITableSchemaSource"/> completed it.
    /// The schema must describe the same columns as the TABLE_MAP (count and storage types): the
    /// map decides how cells are laid out, the schema names and interprets them.
    /// </summary>
    public void SetSchema(ulong tableId, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (!_tables.TryGetValue(tableId, out var state))
        {
            throw new InvalidOperationException($"Table id {tableId} has no TABLE_MAP in the current binlog; a schema can only be set after its TABLE_MAP.");
        }

        _tables[tableId] = state.WithSchema(schema);
    }

    /// <summary>The schema rows of <paramref name="tableId"/> are decoded with, or null when no TABLE_MAP bound it.</summary>
    public TableSchema? GetSchema(ulong tableId) => _tables.TryGetValue(tableId, out var state) ? state.Schema : null;

    internal async ValueTask<BinlogEvent> CompleteAsync(TableMapEvent map, ITableSchemaSource source, CancellationToken cancellationToken)
    {
        var completed = await source.CompleteAsync(map, map.Schema, cancellationToken).ConfigureAwait(false);
        if (completed is null || ReferenceEquals(completed, map.Schema))
        {
            return map;
        }

        try
        {
            SetSchema(map.TableId, completed);
        }
        catch (ArgumentException e)
        {
            // Decoding rows with a schema that disagrees with the map would attribute values to the wrong columns.
            throw new BinlogFormatException($"The schema source's description of {completed} does not fit its TABLE_MAP: {e.Message}", map.File, map.Header.Position, e);
        }

        return map with { Schema = completed };
    }

    /// <summary>The common header of <paramref name="raw"/>, which must hold at least <see cref="EventHeader.Size"/> bytes.</summary>
    internal static EventHeader ReadHeader(ReadOnlySpan<byte> raw) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(raw),
        (BinlogEventType)raw[4],
        BinaryPrimitives.ReadUInt32LittleEndian(raw[5..]),
        BinaryPrimitives.ReadUInt32LittleEndian(raw[9..]),
        BinaryPrimitives.ReadUInt32LittleEndian(raw[13..]),
        BinaryPrimitives.ReadUInt16LittleEndian(raw[17..]));

    private static EventHeader ReadOuterHeader(ReadOnlySpan<byte> raw, string file)
    {
        if (raw.Length < EventHeader.Size)
        {
            throw new BinlogFormatException($"An event of {raw.Length} bytes is shorter than the {EventHeader.Size}-byte common header", file, 0);
        }

        var header = ReadHeader(raw);
        if (header.EventSize != raw.Length)
        {
            throw new BinlogFormatException(
                $"The {Describe(header.Type)} event's header says {header.EventSize} bytes but {raw.Length} were given (truncated or misframed)",
                file,
                header.Position);
        }

        return header;
    }

    /// <summary>The body of a top-level event, after verifying and removing its checksum.</summary>
    private ReadOnlyMemory<byte> OuterBody(ReadOnlyMemory<byte> raw, EventHeader header, string file)
    {
        var end = raw.Length;
        if (Checksum == ChecksumAlgorithm.Crc32)
        {
            if (end < EventHeader.Size + ChecksumLength)
            {
                throw new BinlogFormatException($"The {Describe(header.Type)} event of {end} bytes is too short to hold its CRC32", file, header.Position);
            }

            end -= ChecksumLength;
            if (Options.VerifyChecksums)
            {
                VerifyCrc(raw.Span, end, header, file);
            }
        }

        var start = EventHeader.Size + _extraHeaderLength;
        if (start > end)
        {
            throw new BinlogFormatException($"The {Describe(header.Type)} event of {raw.Length} bytes is shorter than its header", file, header.Position);
        }

        return raw[start..end];
    }

    private static void VerifyCrc(ReadOnlySpan<byte> raw, int checksumAt, EventHeader header, string file)
    {
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(raw[checksumAt..]);
        var actual = Crc32.Compute(raw[..checksumAt]);
        if (expected != actual)
        {
            throw new BinlogFormatException(
                string.Create(CultureInfo.InvariantCulture, $"The {Describe(header.Type)} event fails its CRC32 check (stored 0x{expected:X8}, computed 0x{actual:X8})"),
                file,
                header.Position);
        }
    }

    /// <param name="borrowed">True when <paramref name="body"/> is reused after the call, so that an event must not refer to it.</param>
    private BinlogEvent DecodeBody(EventHeader header, ReadOnlyMemory<byte> body, string file, bool borrowed)
    {
        switch (header.Type)
        {
            case BinlogEventType.Query:
                return DecodeQuery(header, body.Span, file, compressed: false);
            case BinlogEventType.QueryCompressed:
                return DecodeQuery(header, body.Span, file, compressed: true);
            case BinlogEventType.ExecuteLoadQuery:
                // LOAD DATA logged as a statement: a QUERY event with 13 more post-header bytes
                // (file_id, start_pos, end_pos, dup_handling), skipped by the post-header length.
                return DecodeQuery(header, body.Span, file, compressed: false);
            case BinlogEventType.Rotate:
                return DecodeRotate(header, body.Span, file);
            case BinlogEventType.Stop:
                return new StopEvent(header, file);
            case BinlogEventType.Xid:
                return new XidEvent(header, file, new ByteReader(body.Span).ReadUInt64());
            case BinlogEventType.XaPrepare:
                return DecodeXaPrepare(header, body.Span, file);
            case BinlogEventType.TableMap:
                return DecodeTableMap(header, body.Span, file);
            case BinlogEventType.WriteRowsV0:
            case BinlogEventType.UpdateRowsV0:
            case BinlogEventType.DeleteRowsV0:
            case BinlogEventType.WriteRowsV1:
            case BinlogEventType.UpdateRowsV1:
            case BinlogEventType.DeleteRowsV1:
            case BinlogEventType.WriteRowsV2:
            case BinlogEventType.UpdateRowsV2:
            case BinlogEventType.DeleteRowsV2:
            case BinlogEventType.PartialUpdateRows:
            case BinlogEventType.WriteRowsCompressedV1:
            case BinlogEventType.UpdateRowsCompressedV1:
            case BinlogEventType.DeleteRowsCompressedV1:
            case BinlogEventType.WriteRowsCompressed:
            case BinlogEventType.UpdateRowsCompressed:
            case BinlogEventType.DeleteRowsCompressed:
                return DecodeRows(header, body.Span, file);
            case BinlogEventType.Heartbeat:
                // The body is the file name, no terminating NUL; log_pos is the position.
                return new HeartbeatEvent(header, file, Encoding.UTF8.GetString(body.Span)) { LogPosition = header.NextPosition };
            case BinlogEventType.HeartbeatV2:
                return DecodeHeartbeatV2(header, body.Span, file);
            case BinlogEventType.Gtid:
            case BinlogEventType.AnonymousGtid:
                return MySqlGtidEvents.ReadGtid(header, body.Span, file);
            case BinlogEventType.GtidTagged:
                return MySqlGtidEvents.ReadTaggedGtid(header, body.Span, file);
            case BinlogEventType.PreviousGtids:
                return new PreviousGtidsEvent(header, file, MySqlGtidEvents.ReadGtidSet(body.Span));
            case BinlogEventType.TransactionPayload:
                throw new FormatException("A TRANSACTION_PAYLOAD event cannot nest inside another.");
            case BinlogEventType.AnnotateRows:
                // The statement text fills the body.
                return new AnnotateRowsEvent(header, file, Encoding.UTF8.GetString(body.Span));
            case BinlogEventType.BinlogCheckpoint:
                return MariaDbEvents.ReadBinlogCheckpoint(header, body.Span, file);
            case BinlogEventType.MariaDbGtid:
                return MariaDbEvents.ReadGtid(header, body.Span, file);
            case BinlogEventType.GtidList:
                return MariaDbEvents.ReadGtidList(header, body.Span, file);
            default:
                return new UnknownEvent(header, file, borrowed ? body.ToArray() : body);
        }
    }

    /// <summary>
    /// FORMAT_DESCRIPTION_EVENT: binlog_version(2) server_version(50, NUL-padded)
    /// create_timestamp(4) header_length(1) post_header_lengths(n) [checksum_alg(1) crc32(4)].
    /// The algorithm byte and CRC exist from MySQL 5.6.1 / MariaDB 5.3 on, so n is what the event
    /// size leaves: 8.0.22 writes 121 bytes, later 8.0 releases 122.
    /// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Format__description__event.html
    /// </summary>
    private FormatDescriptionEvent DecodeFormatDescription(EventHeader header, ReadOnlySpan<byte> raw, string file)
    {
        var reader = new ByteReader(raw[EventHeader.Size..]);
        var binlogVersion = reader.ReadUInt16();
        var versionBytes = reader.ReadBytes(50);
        var nul = versionBytes.IndexOf((byte)0);
        var serverVersion = Encoding.ASCII.GetString(nul >= 0 ? versionBytes[..nul] : versionBytes);
        var created = reader.ReadUInt32();
        var headerLength = reader.ReadByte();
        if (headerLength < EventHeader.Size)
        {
            throw new FormatException($"A common header length of {headerLength} is shorter than {EventHeader.Size} bytes.");
        }

        var checksum = ChecksumAlgorithm.None;
        var postHeaderCount = reader.Remaining;
        if (HasChecksumAlgorithm(serverVersion))
        {
            postHeaderCount -= 1 + ChecksumLength;
            if (postHeaderCount < 0)
            {
                throw new FormatException($"A FORMAT_DESCRIPTION of {raw.Length} bytes has no room for its checksum algorithm.");
            }

            checksum = (ChecksumAlgorithm)raw[^(1 + ChecksumLength)];
            if (checksum == ChecksumAlgorithm.Crc32 && Options.VerifyChecksums)
            {
                // The server computes this CRC with LOG_EVENT_BINLOG_IN_USE_F clear: it sets the
                // flag in an open file and clears it on close without rewriting the checksum.
                Span<byte> copy = raw.Length <= 1024 ? stackalloc byte[raw.Length] : new byte[raw.Length];
                raw.CopyTo(copy);
                copy[FlagsOffset] &= unchecked((byte)~BinlogInUseFlag);
                VerifyCrc(copy, raw.Length - ChecksumLength, header, file);
            }
        }

        var postHeaderLengths = reader.ReadBytes(postHeaderCount).ToArray();
        var format = new FormatDescriptionEvent(header, file, binlogVersion, serverVersion, created, headerLength, postHeaderLengths, checksum);

        Format = format;
        Checksum = checksum == ChecksumAlgorithm.Crc32 ? ChecksumAlgorithm.Crc32 : ChecksumAlgorithm.None;
        _extraHeaderLength = headerLength - EventHeader.Size;
        // A new FORMAT_DESCRIPTION starts a new file or a server restart: table ids may be reused (maxwell#550).
        _tables.Clear();
        return format;
    }

    /// <summary>MySQL 5.6.1+ and MariaDB 5.3+ end their FORMAT_DESCRIPTION with the checksum algorithm.</summary>
    private static bool HasChecksumAlgorithm(string serverVersion)
    {
        var version = serverVersion.AsSpan();
        var isMariaDb = serverVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        if (isMariaDb && version.StartsWith("5.5.5-"))
        {
            version = version[6..];
        }

        Span<int> parts = stackalloc int[3];
        var part = 0;
        foreach (var c in version)
        {
            if (char.IsAsciiDigit(c))
            {
                parts[part] = (parts[part] * 10) + (c - '0');
            }
            else if (c == '.' && part < 2)
            {
                part++;
            }
            else
            {
                break;
            }
        }

        var (major, minor, patch) = (parts[0], parts[1], parts[2]);
        return isMariaDb
            ? major > 5 || (major == 5 && minor >= 3)
            : major > 5 || (major == 5 && (minor > 6 || (minor == 6 && patch >= 1)));
    }

    /// <summary>
    /// QUERY_EVENT: thread_id(4) exec_time(4) db_len(1) error_code(2) status_vars_len(2), the
    /// status variables (skipped by their length), the NUL-terminated schema, then the statement.
    /// In QUERY_COMPRESSED_EVENT the statement is a MariaDB compressed record.
    /// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Query__event.html
    /// </summary>
    private QueryEvent DecodeQuery(EventHeader header, ReadOnlySpan<byte> body, string file, bool compressed)
    {
        var postHeader = PostHeaderLength(header.Type, header.Type == BinlogEventType.ExecuteLoadQuery ? 26 : 13);
        var reader = new ByteReader(body);
        var threadId = reader.ReadUInt32();
        var executionTime = reader.ReadUInt32();
        var schemaLength = reader.ReadByte();
        var errorCode = reader.ReadUInt16();
        var statusLength = postHeader >= 13 ? reader.ReadUInt16() : 0;
        reader.Skip(Math.Max(0, postHeader - 13));
        reader.Skip(statusLength);
        var schema = Encoding.UTF8.GetString(reader.ReadBytes(schemaLength));
        if (reader.ReadByte() != 0)
        {
            throw new FormatException($"The schema name of a QUERY event is not NUL-terminated (offset {reader.Offset - 1}).");
        }

        var statement = reader.ReadToEnd();
        var sql = compressed
            ? Encoding.UTF8.GetString(MariaDbCompression.Decompress(statement, Options.MaxDecompressedSize))
            : Encoding.UTF8.GetString(statement);
        return new QueryEvent(header, file, threadId, executionTime, errorCode, schema, sql);
    }

    /// <summary>
    /// XA_PREPARE_LOG_EVENT: one_phase(1) formatID(4) gtrid_length(4) bqual_length(4), then gtrid
    /// and bqual. (MariaDB's page lists bqual_length as one byte; MariaDB 10.11 and MySQL write four,
    /// as MySQL's XA_prepare_event reads them.)
    /// https://mariadb.com/kb/en/xa_prepare_log_event/ and
    /// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1XA__prepare__event.html
    /// </summary>
    private static XaPrepareEvent DecodeXaPrepare(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var reader = new ByteReader(body);
        var onePhase = reader.ReadByte() != 0;
        var formatId = reader.ReadUInt32();
        var gtridLength = reader.ReadUInt32();
        var bqualLength = reader.ReadUInt32();
        if (gtridLength > XaId.MaxPartLength || bqualLength > XaId.MaxPartLength)
        {
            throw new FormatException($"An XA_PREPARE declares an XID of {gtridLength} + {bqualLength} bytes; at most {XaId.MaxPartLength} + {XaId.MaxPartLength} are allowed.");
        }

        var gtrid = reader.ReadBytes((int)gtridLength);
        var bqual = reader.ReadBytes((int)bqualLength);
        return new XaPrepareEvent(header, file, onePhase, new XaId(formatId, gtrid, bqual));
    }

    /// <summary>ROTATE_EVENT: position(8) then the next file's name to the end of the body.</summary>
    private RotateEvent DecodeRotate(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var reader = new ByteReader(body);
        var position = PostHeaderLength(BinlogEventType.Rotate, 8) >= 8 ? (long)reader.ReadUInt64() : 4;
        var next = Encoding.UTF8.GetString(reader.ReadToEnd());
        // The next events come from another file (or a restarted server): table ids may be reused (maxwell#550).
        _tables.Clear();
        return new RotateEvent(header, file, next, position);
    }

    /// <summary>
    /// HEARTBEAT_LOG_EVENT_V2 (MySQL 8.0.26+): type/length/value fields, all packed integers,
    /// 1 = log file name (bytes), 2 = log position (packed integer), ending with type 0.
    /// </summary>
    private static HeartbeatEvent DecodeHeartbeatV2(EventHeader header, ReadOnlySpan<byte> body, string file)
    {
        var reader = new ByteReader(body);
        var logFile = string.Empty;
        long logPosition = 0;
        while (!reader.IsAtEnd)
        {
            var type = reader.ReadLengthEncodedInteger();
            if (type == 0)
            {
                break;
            }

            var length = checked((int)reader.ReadLengthEncodedInteger());
            var value = reader.ReadBytes(length);
            switch (type)
            {
                case 1:
                    logFile = Encoding.UTF8.GetString(value);
                    break;
                case 2:
                    var valueReader = new ByteReader(value);
                    logPosition = (long)valueReader.ReadLengthEncodedInteger();
                    break;
            }
        }

        return new HeartbeatEvent(header, file, logFile) { LogPosition = logPosition };
    }

    /// <summary>The FORMAT_DESCRIPTION's post-header length for a type, or the standard one when it lists none.</summary>
    private int PostHeaderLength(BinlogEventType type, int standard)
    {
        var listed = Format?.PostHeaderLength(type) ?? 0;
        return listed > 0 ? listed : standard;
    }

    /// <summary>Any other failure while decoding, but a cancellation: a bug here or a setup problem its message names.</summary>
    private static bool IsUnexpected(Exception e) => e is not (BinlogFormatException or OperationCanceledException);

    /// <summary>Reports an unexpected failure with the event's type, file and position, so that it stops the reader rather than losing the event.</summary>
    internal static BinlogFormatException Unexpected(BinlogEventType type, Exception e, string file, long position) =>
        new($"Decoding the {Describe(type)} event failed unexpectedly ({e.GetType().Name}: {e.Message}). Unless that names a setup problem, it is a bug in Replicator's decoder, not in the source: the event is not skipped; report it with this file and position", file, position, e);

    private static bool IsDecodeFailure(Exception e) =>
        e is FormatException or InvalidDataException or OverflowException or ArgumentException or IndexOutOfRangeException
        && e is not BinlogFormatException;

    internal static string Describe(BinlogEventType type) =>
        Enum.IsDefined(type) ? type.ToString() : ((int)type).ToString(CultureInfo.InvariantCulture);
}
