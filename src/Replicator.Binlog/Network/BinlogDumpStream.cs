using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Network;

/// <summary>
/// The events of a running binlog dump, undecoded. Each packet is 0x00 + one event; 0xFE (EOF)
/// ends a non-blocking dump at the end of the binlog; 0xFF (ERR) ends the dump with the server's
/// reason. The stream follows ROTATE events to know which file each event belongs to, and keeps
/// the position after the last event (log_pos from the header).
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump.html
/// </summary>
internal sealed class BinlogDumpStream
{
    private const byte EventHeaderByte = 0x00;
    private const byte EndOfStreamByte = 0xFE;

    /// <summary>A ROTATE body: position(8), then the next file's name.</summary>
    private const int RotatePositionSize = 8;

    private const int ChecksumSize = 4;

    private readonly BinlogConnection _connection;
    private readonly PacketChannel _channel;

    public BinlogDumpStream(BinlogConnection connection, DumpStart start, ChecksumAlgorithm checksum)
    {
        _connection = connection;
        _channel = connection.Channel;
        Start = start;
        Checksum = checksum;
        CurrentFile = start.File;
        Position = start.IsGtid ? null : new BinlogPosition(start.File, start.Position);
    }

    public DumpStart Start { get; }

    /// <summary>The checksum the events carry: from the session at first, then from each FORMAT_DESCRIPTION_EVENT.</summary>
    public ChecksumAlgorithm Checksum { get; private set; }

    /// <summary>The file the next event belongs to; empty for a GTID start until the first ROTATE names it.</summary>
    public string CurrentFile { get; private set; }

    /// <summary>The position after the last event read (the start before any), null for a GTID start until the first ROTATE.</summary>
    public BinlogPosition? Position { get; private set; }

    /// <summary>True after the server ended the stream (EOF of a non-blocking dump, or an error).</summary>
    public bool IsCompleted { get; private set; }

    /// <summary>The next event, or null when a non-blocking dump reached the end of the binlog.</summary>
    /// <exception cref="BinlogServerException">The server ended the dump with an error (purged binlog, missing privilege, …).</exception>
    /// <exception cref="BinlogConnectionException">The connection failed or went silent for longer than the read timeout.</exception>
    public async ValueTask<RawBinlogEvent?> ReadAsync(CancellationToken cancellationToken)
    {
        if (await ReadInPlaceAsync(cancellationToken).ConfigureAwait(false) is not { } streamed)
        {
            return null;
        }

        // The decoder may keep references into the event, so each event gets its own array.
        return new RawBinlogEvent(streamed.Header, streamed.Data.ToArray(), streamed.File);
    }

    /// <summary>
    /// The next event without copying it: its bytes are a slice of the connection's buffer, valid
    /// only until the next read. Completes at once, without an await, while the events the last
    /// socket read brought in last. Null when a non-blocking dump reached the end of the binlog.
    /// </summary>
    /// <exception cref="BinlogServerException">The server ended the dump with an error (purged binlog, missing privilege, …).</exception>
    /// <exception cref="BinlogConnectionException">The connection failed or went silent for longer than the read timeout.</exception>
    public ValueTask<StreamedEvent?> ReadInPlaceAsync(CancellationToken cancellationToken) =>
        TryReadBuffered(out var streamed) ? new(streamed) : ReadInPlaceSlowAsync(cancellationToken);

    /// <summary>
    /// Takes the next event, as <see cref="ReadInPlaceAsync"/> does, when its packet is already whole
    /// in the connection's buffer; false (nothing taken) when it is not, or when the next packet ends
    /// the stream: <see cref="ReadInPlaceAsync"/> then waits for it.
    /// </summary>
    /// <exception cref="BinlogFormatException">The event's length does not match its header.</exception>
    public bool TryReadBuffered(out StreamedEvent streamed)
    {
        if (!IsCompleted && _channel.TryReadBufferedPayload(EventHeaderByte, out var payload))
        {
            streamed = Accept(payload[1..]);
            return true;
        }

        streamed = default;
        return false;
    }

    public async IAsyncEnumerable<RawBinlogEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadAsync(cancellationToken).ConfigureAwait(false) is { } binlogEvent)
        {
            yield return binlogEvent;
        }
    }

    private async ValueTask<StreamedEvent?> ReadInPlaceSlowAsync(CancellationToken cancellationToken)
    {
        if (IsCompleted)
        {
            return null;
        }

        var payload = await _channel.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
        if (payload.IsEmpty)
        {
            throw new BinlogConnectionException($"the source {_channel.Endpoint} sent an empty packet in the binlog stream");
        }

        switch (payload.Span[0])
        {
            case EventHeaderByte:
                return Accept(payload[1..]);

            case EndOfStreamByte when payload.Length < PacketChannel.MaxChunkLength:
                IsCompleted = true;
                return null;

            case ErrorPacket.Header:
                IsCompleted = true;
                throw await DumpErrorAsync(ErrorPacket.Parse(payload.Span)).ConfigureAwait(false);

            default:
                throw new BinlogConnectionException(
                    $"the source {_channel.Endpoint} sent an unexpected packet (0x{payload.Span[0]:X2}) in the binlog stream");
        }
    }

    private StreamedEvent Accept(ReadOnlyMemory<byte> body)
    {
        var data = body.Span;
        if (data.Length < EventHeader.Size)
        {
            throw new BinlogFormatException(
                $"the source {_channel.Endpoint} sent a {data.Length}-byte event, shorter than the {EventHeader.Size}-byte event header",
                CurrentFile, Position?.Position ?? 0);
        }

        var header = BinlogEventDecoder.ReadHeader(data);
        if (header.EventSize != data.Length)
        {
            throw new BinlogFormatException(
                $"the source {_channel.Endpoint} sent a {header.Type} event of {data.Length} bytes whose header says {header.EventSize}",
                CurrentFile, header.Position);
        }

        var file = CurrentFile;
        switch (header.Type)
        {
            case BinlogEventType.Rotate:
                var (nextFile, nextPosition) = ReadRotate(data, header);
                CurrentFile = nextFile;
                Position = new BinlogPosition(nextFile, nextPosition);
                return new StreamedEvent(header, body, file);

            case BinlogEventType.FormatDescription:
                // Since MySQL 5.6.1 / MariaDB 5.3 the body ends with the checksum algorithm (1) and a checksum (4).
                var algorithm = data[^(ChecksumSize + 1)];
                if (algorithm is (byte)ChecksumAlgorithm.None or (byte)ChecksumAlgorithm.Crc32)
                {
                    Checksum = (ChecksumAlgorithm)algorithm;
                }

                break;
        }

        // Artificial events and heartbeats do not stand for a place in the file, and an event
        // replayed from before the start (the FORMAT_DESCRIPTION_EVENT) does not move it back.
        if (header.NextPosition != 0
            && !header.IsArtificial
            && header.Type is not (BinlogEventType.Heartbeat or BinlogEventType.HeartbeatV2)
            && (Position is not { } current || current.File != file || header.NextPosition > current.Position))
        {
            Position = new BinlogPosition(file, header.NextPosition);
        }

        return new StreamedEvent(header, body, file);
    }

    private (string File, long Position) ReadRotate(ReadOnlySpan<byte> data, EventHeader header)
    {
        var end = data.Length - (Checksum == ChecksumAlgorithm.Crc32 ? ChecksumSize : 0);
        var start = EventHeader.Size + RotatePositionSize;
        if (end <= start)
        {
            throw new BinlogFormatException($"the source {_channel.Endpoint} sent a ROTATE event without a file name", CurrentFile, header.Position);
        }

        var position = (long)BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(EventHeader.Size, RotatePositionSize));
        return (Encoding.UTF8.GetString(data[start..end]), position);
    }

    private async Task<BinlogServerException> DumpErrorAsync(ErrorPacket error)
    {
        var endpoint = _channel.Endpoint;
        var reached = Position is { } position && (Start.IsGtid || position != new BinlogPosition(Start.File, Start.Position))
            ? $" (the stream had reached {position})"
            : "";
        string message;
        if (IsServerIdCollision(error))
        {
            message = $"another replica is connected to {endpoint} with server_id {_connection.Options.ServerId}, the one this reader registered with, and the server lets only one of them read: {error.Message} (error {error.Code}). "
                + "Give this source a server-id that no other replica or reader of the server uses (SHOW SLAVE HOSTS lists the registered ones); two readers with one server_id would evict each other for ever";
            return new BinlogServerException(error.Code, error.SqlState, error.Message, message, serverIdCollision: true);
        }

        if (error.Code == 1236 && LooksPurged(error.Message))
        {
            var oldest = await _connection.TryFindOldestBinlogAsync().ConfigureAwait(false);
            var oldestText = oldest is null ? "" : $"; the oldest binlog file the source still holds is {oldest}";
            message = $"the source {endpoint} can no longer send the binlog from {Start}{reached}: {error.Message} (error 1236). "
                + $"The binlog files holding that position were probably purged (binlog_expire_logs_seconds, expire_logs_days or PURGE BINARY LOGS){oldestText}. "
                + "Changes after the stored position cannot be read any more: re-snapshot the captured tables and restart from a current position (or restore the purged binlog files), and keep binlogs longer than the longest capture outage";
        }
        else if (error.Code == 1236)
        {
            message = $"the source {endpoint} refused the binlog dump from {Start}{reached}: {error.Message} (error 1236); check that this position exists on this server (a file position is only valid on the server that wrote it)";
        }
        else
        {
            var hint = error.Code is 1227 or 1045 or 1044
                ? "; grant REPLICATION SLAVE to the capture user"
                : "";
            message = $"the source {endpoint} ended the binlog dump from {Start}{reached}: {error.Message} (error {error.Code}, SQLSTATE {error.SqlState}){hint}";
        }

        return new BinlogServerException(error.Code, error.SqlState, error.Message, message);
    }

    /// <summary>
    /// MariaDB refuses a dump whose server_id another replica holds with ER_SLAVE_SAME_ID (4052);
    /// MySQL ends the older dump with error 1236 ("A replica with the same server_uuid/server_id").
    /// </summary>
    private static bool IsServerIdCollision(ErrorPacket error) =>
        error.Code == 4052
        || error.Message.Contains("same server_uuid/server_id", StringComparison.OrdinalIgnoreCase)
        || error.Message.Contains("same server_id", StringComparison.OrdinalIgnoreCase);

    private static bool LooksPurged(string serverMessage) =>
        serverMessage.Contains("Could not find first log file", StringComparison.OrdinalIgnoreCase)
        || serverMessage.Contains("Could not find GTID state", StringComparison.OrdinalIgnoreCase)
        || serverMessage.Contains("purged", StringComparison.OrdinalIgnoreCase);
}
