using System.Globalization;
using System.Text;
using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Network;

/// <summary>
/// Becoming a replica: the session variables a dump needs, COM_REGISTER_SLAVE, then
/// COM_BINLOG_DUMP (file and offset, or a MariaDB GTID position through @slave_connect_state) or
/// COM_BINLOG_DUMP_GTID (a MySQL GTID set).
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication.html
/// https://mariadb.com/kb/en/com_binlog_dump/
/// </summary>
public sealed partial class BinlogConnection
{
    /// <summary>BINLOG_DUMP_NON_BLOCK: send EOF at the end of the binlog instead of waiting.</summary>
    private const ushort DumpNonBlock = 0x01;

    /// <summary>BINLOG_THROUGH_GTID: COM_BINLOG_DUMP_GTID carries a GTID set.</summary>
    private const ushort DumpThroughGtid = 0x04;

    /// <summary>MARIA_SLAVE_CAPABILITY_GTID: the replica understands GTID events (MariaDB 10.0+).</summary>
    private const int MariaDbSlaveCapabilityGtid = 4;

    /// <summary>
    /// The end of the source's binlog: SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL 8.4+).
    /// </summary>
    /// <exception cref="BinlogConfigurationException">Binary logging is disabled on the source.</exception>
    public async ValueTask<BinlogPosition> ReadCurrentPositionAsync(CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            return await QueryCurrentPositionAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>The binlog files the source still holds, oldest first (SHOW BINARY LOGS).</summary>
    /// <exception cref="BinlogConfigurationException">Binary logging is disabled on the source.</exception>
    public async ValueTask<IReadOnlyList<string>> ReadBinaryLogsAsync(CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            return await QueryBinaryLogsAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>
    /// Resolves <see cref="BinlogClientOptions.Start"/>, prepares the session, registers as a
    /// replica and sends the dump command. From then on the connection only streams events.
    /// </summary>
    internal async ValueTask<BinlogDumpStream> StartDumpAsync(CancellationToken cancellationToken)
    {
        Enter();
        var dumping = false;
        try
        {
            var start = await ResolveStartAsync(Options.Start, cancellationToken).ConfigureAwait(false);
            var checksum = await AnnounceChecksumAsync(cancellationToken).ConfigureAwait(false);
            if (Server.IsMariaDb)
            {
                await SetUpAsync(
                    string.Create(CultureInfo.InvariantCulture, $"SET @mariadb_slave_capability = {MariaDbSlaveCapabilityGtid}"),
                    cancellationToken).ConfigureAwait(false);
            }

            if (Options.HeartbeatPeriod > TimeSpan.Zero)
            {
                var nanoseconds = (ulong)Options.HeartbeatPeriod.Ticks * 100;
                await SetUpAsync(
                    string.Create(CultureInfo.InvariantCulture, $"SET @master_heartbeat_period = {nanoseconds}"),
                    cancellationToken).ConfigureAwait(false);
            }

            if (start.MariaDbGtids is { } gtids)
            {
                // The text of a parsed position holds only digits, '-' and ',': safe to inline.
                await SetUpAsync($"SET @slave_connect_state = '{gtids}'", cancellationToken).ConfigureAwait(false);
                await SetUpAsync("SET @slave_gtid_strict_mode = 1", cancellationToken).ConfigureAwait(false);
                await SetUpAsync("SET @slave_gtid_ignore_duplicates = 0", cancellationToken).ConfigureAwait(false);
            }

            await RegisterReplicaAsync(cancellationToken).ConfigureAwait(false);
            await SendDumpCommandAsync(start, cancellationToken).ConfigureAwait(false);
            dumping = true;
            return new BinlogDumpStream(this, start, checksum);
        }
        finally
        {
            Leave(dumping ? State.Dumping : State.Idle);
        }
    }

    /// <summary>The oldest binlog file on the source, read on a second short-lived connection; null when that fails.</summary>
    internal async Task<string?> TryFindOldestBinlogAsync()
    {
        try
        {
            var options = Options with { ConnectTimeout = TimeSpan.FromSeconds(5), ReadTimeout = TimeSpan.FromSeconds(10), HeartbeatPeriod = TimeSpan.FromSeconds(5) };
            await using var connection = await OpenAsync(options).ConfigureAwait(false);
            var logs = await connection.ReadBinaryLogsAsync().ConfigureAwait(false);
            return logs.Count > 0 ? logs[0] : null;
        }
        catch (Exception e) when (e is BinlogException or OperationCanceledException)
        {
            return null;
        }
    }

    private async ValueTask<DumpStart> ResolveStartAsync(StartPosition start, CancellationToken cancellationToken)
    {
        switch (start)
        {
            case StartPosition.AtPosition { Position: var position }:
                if (string.IsNullOrEmpty(position.File) || position.File.Contains('\0', StringComparison.Ordinal))
                {
                    throw new BinlogConfigurationException($"the start position '{position}' has no binlog file name");
                }

                if (position.Position < BinlogPosition.FirstEventPosition || position.Position > uint.MaxValue)
                {
                    throw new BinlogConfigurationException(
                        $"the start position '{position}' is out of range: a binlog offset is 4 (the first event) or more, and below 4 GB");
                }

                return new DumpStart(position.File, position.Position);

            case StartPosition.AtEnd:
            {
                var position = await QueryCurrentPositionAsync(cancellationToken).ConfigureAwait(false);
                return new DumpStart(position.File, position.Position);
            }

            case StartPosition.AtOldest:
            {
                var logs = await QueryBinaryLogsAsync(cancellationToken).ConfigureAwait(false);
                return new DumpStart(logs[0], BinlogPosition.FirstEventPosition);
            }

            case StartPosition.AfterMariaDbGtids { Gtids: var gtids }:
                return Server.IsMariaDb
                    ? new DumpStart("", BinlogPosition.FirstEventPosition, MariaDbGtids: gtids)
                    : throw new BinlogConfigurationException(
                        $"a MariaDB GTID start position ('{gtids}') needs a MariaDB source, but {Endpoint} runs {Server.Version}; start from a MySQL GTID set or a file position");

            case StartPosition.AfterMySqlGtids { Gtids: var set }:
                return Server.IsMariaDb
                    ? throw new BinlogConfigurationException(
                        $"a MySQL GTID set ('{set}') cannot start a dump from MariaDB {Server.Version} at {Endpoint}; start from a MariaDB GTID position or a file position")
                    : new DumpStart("", BinlogPosition.FirstEventPosition, MySqlGtids: set);

            default:
                throw new BinlogConfigurationException($"unknown start position {start}");
        }
    }

    private async ValueTask<BinlogPosition> QueryCurrentPositionAsync(CancellationToken cancellationToken)
    {
        QueryResult result;
        try
        {
            result = await RunQueryAsync("SHOW MASTER STATUS", cancellationToken, "SHOW MASTER STATUS").ConfigureAwait(false);
        }
        catch (BinlogServerException e) when (e.ErrorCode == 1064)
        {
            // MySQL 8.4 removed SHOW MASTER STATUS in favour of SHOW BINARY LOG STATUS.
            result = await RunQueryAsync("SHOW BINARY LOG STATUS", cancellationToken, "SHOW BINARY LOG STATUS").ConfigureAwait(false);
        }

        if (result.IsEmpty || result.Columns.Count < 2)
        {
            throw BinaryLoggingDisabled();
        }

        var file = result.Rows[0][0];
        var offset = result.Rows[0][1];
        if (string.IsNullOrEmpty(file) || !long.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
        {
            throw new BinlogConnectionException($"the source {Endpoint} answered SHOW MASTER STATUS with an unreadable position");
        }

        return new BinlogPosition(file, position);
    }

    private async ValueTask<IReadOnlyList<string>> QueryBinaryLogsAsync(CancellationToken cancellationToken)
    {
        QueryResult result;
        try
        {
            result = await RunQueryAsync("SHOW BINARY LOGS", cancellationToken, "SHOW BINARY LOGS").ConfigureAwait(false);
        }
        catch (BinlogServerException e) when (e.ErrorCode == 1381)
        {
            // ER_NO_BINARY_LOGGING: "You are not using binary logging"
            throw BinaryLoggingDisabled(e);
        }

        var names = result.Rows.Select(r => r[0]).Where(n => !string.IsNullOrEmpty(n)).Select(n => n!).ToArray();
        return names.Length > 0 ? names : throw BinaryLoggingDisabled();
    }

    private BinlogConfigurationException BinaryLoggingDisabled(Exception? inner = null) =>
        new($"binary logging is disabled on the source {Endpoint}: set log_bin (with binlog_format=ROW and binlog_row_image=FULL) and restart it", inner);

    /// <summary>
    /// Tells the server the replica understands event checksums, so events keep their CRC32 and
    /// the decoder can verify them. Servers before MySQL 5.6 / MariaDB 5.3 do not know the
    /// variable (error 1193) and send no checksums.
    /// </summary>
    private async ValueTask<ChecksumAlgorithm> AnnounceChecksumAsync(CancellationToken cancellationToken)
    {
        QueryResult result;
        try
        {
            result = await RunQueryAsync("SELECT @@global.binlog_checksum", cancellationToken, "SELECT @@global.binlog_checksum").ConfigureAwait(false);
        }
        catch (BinlogServerException e) when (e.ErrorCode == 1193)
        {
            return ChecksumAlgorithm.None;
        }

        await SetUpAsync("SET @master_binlog_checksum = @@global.binlog_checksum", cancellationToken).ConfigureAwait(false);
        return string.Equals(result.Rows.FirstOrDefault()?[0], "CRC32", StringComparison.OrdinalIgnoreCase)
            ? ChecksumAlgorithm.Crc32
            : ChecksumAlgorithm.None;
    }

    private async ValueTask SetUpAsync(string statement, CancellationToken cancellationToken) =>
        await RunQueryAsync(statement, cancellationToken, $"the replica set-up statement '{statement}'").ConfigureAwait(false);

    /// <summary>
    /// COM_REGISTER_SLAVE: server_id(4), hostname, user and password (1-byte length each; the
    /// password is never sent), port(2), replication rank(4), master id(4).
    /// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_register_slave.html
    /// </summary>
    private async ValueTask RegisterReplicaAsync(CancellationToken cancellationToken)
    {
        var host = Encoding.UTF8.GetBytes(Environment.MachineName);
        if (host.Length > 60)
        {
            host = host[..60];
        }

        var command = new PacketWriter(32)
            .WriteByte((byte)CommandCode.RegisterSlave)
            .WriteUInt32(Options.ServerId)
            .WriteByte((byte)host.Length).WriteBytes(host)
            .WriteByte(0)
            .WriteByte(0)
            .WriteUInt16(0)
            .WriteUInt32(0)
            .WriteUInt32(0);
        _channel.ResetSequence();
        await _channel.WritePayloadAsync(command.Payload, cancellationToken).ConfigureAwait(false);
        var reply = await _channel.ReadPayloadAsync(cancellationToken).ConfigureAwait(false);
        if (ErrorPacket.Is(reply.Span))
        {
            var error = ErrorPacket.Parse(reply.Span);
            var hint = error.Code is 1045 or 1227
                ? $"; the user '{Options.User}' needs the REPLICATION SLAVE privilege (MariaDB answers 'Access denied' to COM_REGISTER_SLAVE without it even when the password is right): GRANT REPLICATION SLAVE ON *.* TO it"
                : "";
            throw new BinlogServerException(error.Code, error.SqlState, error.Message,
                $"the source {Endpoint} refused to register replica server_id {Options.ServerId} (COM_REGISTER_SLAVE): {error.Message} (error {error.Code}, SQLSTATE {error.SqlState}){hint}");
        }

        if (reply.IsEmpty || reply.Span[0] != OkPacket.Header)
        {
            throw new BinlogConnectionException($"the source {Endpoint} answered COM_REGISTER_SLAVE with an unexpected packet");
        }
    }

    /// <summary>
    /// COM_BINLOG_DUMP: position(4) flags(2) server_id(4) file name(rest).
    /// COM_BINLOG_DUMP_GTID: flags(2) server_id(4) name length(4) name position(8) data length(4) GTID set.
    /// </summary>
    private async ValueTask SendDumpCommandAsync(DumpStart start, CancellationToken cancellationToken)
    {
        var flags = Options.Blocking ? (ushort)0 : DumpNonBlock;
        var command = new PacketWriter(64);
        if (start.MySqlGtids is { } set)
        {
            var name = Encoding.UTF8.GetBytes(start.File);
            var data = GtidSetEncoding.Encode(set);
            command.WriteByte((byte)CommandCode.BinlogDumpGtid)
                .WriteUInt16((ushort)(flags | DumpThroughGtid))
                .WriteUInt32(Options.ServerId)
                .WriteUInt32((uint)name.Length)
                .WriteBytes(name)
                .WriteUInt64((ulong)start.Position)
                .WriteUInt32((uint)data.Length)
                .WriteBytes(data);
        }
        else
        {
            command.WriteByte((byte)CommandCode.BinlogDump)
                .WriteUInt32((uint)start.Position)
                .WriteUInt16(flags)
                .WriteUInt32(Options.ServerId)
                .WriteString(start.File);
        }

        _channel.ResetSequence();
        await _channel.WritePayloadAsync(command.Payload, cancellationToken).ConfigureAwait(false);
    }
}
