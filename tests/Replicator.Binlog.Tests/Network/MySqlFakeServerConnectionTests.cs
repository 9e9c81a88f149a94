using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Tests.Network;

/// <summary>MySQL 8 behaviour the shared MariaDB cannot show: GTID-set dumps, SHOW BINARY LOG STATUS, and servers that go quiet.</summary>
public sealed class MySqlFakeServerConnectionTests
{
    private const string Uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private const string Password = "mysql-dev-password";

    [Fact]
    public async Task A_MySQL_GTID_start_sends_COM_BINLOG_DUMP_GTID_with_the_encoded_set_after_the_set_up_statements()
    {
        await using var server = Server();
        server.DumpEvents.Add(NetworkFakeMySqlServer.FakeRotate(NetworkFakeMySqlServer.BinlogFile, 4));
        server.DumpEvents.Add(NetworkFakeMySqlServer.FormatDescription(0));
        var gtids = MySqlGtidSet.Parse($"{Uuid}:1-5:11,{Uuid}:tk:7");
        var options = Options(server) with { Start = StartPosition.After(gtids), Blocking = false, ServerId = 2501 };

        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        var events = await NetworkRawEvents.ReadToEndAsync(stream);

        Assert.Equal(
            ["SELECT @@global.binlog_checksum", "SET @master_binlog_checksum = @@global.binlog_checksum", "SET @master_heartbeat_period = 5000000000"],
            server.Queries);
        var commands = server.ReplicationCommands.ToArray();
        Assert.Equal(2, commands.Length);
        Assert.Equal(0x15, commands[0][0]);
        Assert.Equal(2501u, BinaryPrimitives.ReadUInt32LittleEndian(commands[0].AsSpan(1)));

        // COM_BINLOG_DUMP_GTID: 0x1e, flags (NON_BLOCK | THROUGH_GTID), server_id, empty file name, position 4, the set.
        var dump = commands[1];
        Assert.Equal(0x1E, dump[0]);
        Assert.Equal(0x0005, BinaryPrimitives.ReadUInt16LittleEndian(dump.AsSpan(1)));
        Assert.Equal(2501u, BinaryPrimitives.ReadUInt32LittleEndian(dump.AsSpan(3)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(dump.AsSpan(7)));
        Assert.Equal(4UL, BinaryPrimitives.ReadUInt64LittleEndian(dump.AsSpan(11)));
        var length = BinaryPrimitives.ReadUInt32LittleEndian(dump.AsSpan(19));
        Assert.Equal(GtidSetEncoding.Encode(gtids), dump[23..]);
        Assert.Equal((uint)(dump.Length - 23), length);

        Assert.Equal([BinlogEventType.Rotate, BinlogEventType.FormatDescription], events.Select(e => e.Type));
        Assert.Equal(NetworkFakeMySqlServer.BinlogFile, stream.CurrentFile);
        Assert.Equal(new BinlogPosition(NetworkFakeMySqlServer.BinlogFile, 4), stream.Position);
        Assert.True(stream.IsCompleted);
    }

    [Fact]
    public async Task The_current_end_of_a_MySQL_8_4_source_comes_from_SHOW_BINARY_LOG_STATUS_and_the_dump_names_it()
    {
        await using var server = Server();
        var options = Options(server) with { Start = StartPosition.CurrentEnd, Blocking = false, ServerId = 2502, HeartbeatPeriod = TimeSpan.Zero, ReadTimeout = Timeout.InfiniteTimeSpan };

        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        Assert.Empty(await NetworkRawEvents.ReadToEndAsync(stream));

        Assert.Equal(["SHOW MASTER STATUS", "SHOW BINARY LOG STATUS"], server.Queries.Take(2));
        Assert.DoesNotContain(server.Queries, q => q.Contains("heartbeat", StringComparison.Ordinal) || q.Contains("mariadb", StringComparison.Ordinal));

        // COM_BINLOG_DUMP: 0x12, position, flags (NON_BLOCK), server_id, file name.
        var dump = server.ReplicationCommands.Last();
        Assert.Equal(0x12, dump[0]);
        Assert.Equal((uint)NetworkFakeMySqlServer.BinlogEnd, BinaryPrimitives.ReadUInt32LittleEndian(dump.AsSpan(1)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(dump.AsSpan(5)));
        Assert.Equal(2502u, BinaryPrimitives.ReadUInt32LittleEndian(dump.AsSpan(7)));
        Assert.Equal(NetworkFakeMySqlServer.BinlogFile, Encoding.ASCII.GetString(dump, 11, dump.Length - 11));
    }

    [Fact]
    public async Task Without_CLIENT_DEPRECATE_EOF_result_sets_end_with_EOF_packets_and_dumps_with_a_classic_EOF()
    {
        await using var server = new NetworkFakeMySqlServer { OffersDeprecateEof = false };
        server.Accounts.Add(("cdc", Password, "mysql_native_password"));
        server.DumpEvents.Add(NetworkFakeMySqlServer.FakeRotate(NetworkFakeMySqlServer.BinlogFile, 4));
        var options = Options(server) with { Start = StartPosition.Oldest, Blocking = false };
        await using var connection = await BinlogConnection.OpenAsync(options);

        var logs = await connection.ReadBinaryLogsAsync();
        var one = await connection.QueryAsync("SELECT 1");
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        var events = await NetworkRawEvents.ReadToEndAsync(stream);

        Assert.False(connection.DeprecateEof);
        Assert.Equal(["binlog.000002", NetworkFakeMySqlServer.BinlogFile], logs);
        Assert.Equal("1", one.Rows[0][0]);
        Assert.Single(events);
        Assert.True(stream.IsCompleted);
        Assert.Equal("binlog.000002", Encoding.ASCII.GetString(server.ReplicationCommands.Last().AsSpan(11)));
    }

    [Fact]
    public async Task A_MariaDB_GTID_position_is_refused_for_a_MySQL_source()
    {
        await using var server = Server();
        var options = Options(server) with { Start = StartPosition.After(MariaDbGtidPosition.Parse("0-1-5")) };
        await using var connection = await BinlogConnection.OpenAsync(options);

        var error = await Assert.ThrowsAsync<BinlogConfigurationException>(async () => await connection.StartDumpAsync(CancellationToken.None));

        Assert.Contains("needs a MariaDB source", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_purged_GTID_set_ends_the_dump_with_a_message_naming_the_set_and_the_oldest_file()
    {
        await using var server = new NetworkFakeMySqlServer
        {
            DumpError = (1236, "HY000", "Cannot replicate because the source purged required binary logs. Replicate the missing transactions from elsewhere."),
        };
        server.Accounts.Add(("cdc", Password, "mysql_native_password"));
        var gtids = MySqlGtidSet.Parse($"{Uuid}:1-3");
        var options = Options(server) with { Start = StartPosition.After(gtids), Blocking = false };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<BinlogServerException>(async () => await NetworkRawEvents.ReadToEndAsync(stream));

        Assert.Equal(1236, error.ErrorCode);
        Assert.Contains($"GTID set '{Uuid}:1-3'", error.Message, StringComparison.Ordinal);
        Assert.Contains("the oldest binlog file the source still holds is binlog.000002", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_accepts_but_never_greets_fails_the_open_after_the_connect_timeout()
    {
        await using var server = new NetworkFakeMySqlServer { Silent = true };
        var options = Options(server) with { ConnectTimeout = TimeSpan.FromSeconds(1) };

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        Assert.Contains($"connected to {options.Endpoint} but the login did not finish within 1s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blocking_dump_that_goes_silent_fails_after_the_read_timeout()
    {
        await using var server = Server();
        server.DumpEvents.Add(NetworkFakeMySqlServer.FakeRotate(NetworkFakeMySqlServer.BinlogFile, 4));
        var options = Options(server) with
        {
            Start = StartPosition.At(NetworkFakeMySqlServer.BinlogFile, 4),
            HeartbeatPeriod = TimeSpan.FromMilliseconds(500),
            ReadTimeout = TimeSpan.FromSeconds(1),
        };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        Assert.Equal(BinlogEventType.Rotate, (await stream.ReadAsync(CancellationToken.None))!.Value.Type);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await stream.ReadAsync(CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        Assert.Equal($"no data from {options.Endpoint} for 1s: the connection is dead or half-open", error.Message);
    }

    [Fact]
    public async Task Something_that_is_not_a_MySQL_server_is_reported_as_such()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var answer = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            // A packet of 5 bytes, sequence 0, that is no handshake (protocol version 'H').
            await client.GetStream().WriteAsync("\x05\0\0\0HELLO"u8.ToArray());
            await Task.Delay(2000);
        });
        var options = new BinlogClientOptions { Host = "127.0.0.1", Port = port, User = "u", ServerId = 2503, SslMode = BinlogSslMode.None };

        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains("did not answer with a MySQL or MariaDB handshake", error.Message, StringComparison.Ordinal);
        await answer;
    }

    private static NetworkFakeMySqlServer Server()
    {
        var server = new NetworkFakeMySqlServer();
        server.Accounts.Add(("cdc", Password, "mysql_native_password"));
        return server;
    }

    private static BinlogClientOptions Options(NetworkFakeMySqlServer server) => new()
    {
        Host = "127.0.0.1",
        Port = server.Port,
        User = "cdc",
        Password = Password,
        ServerId = 2500,
        SslMode = BinlogSslMode.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };
}
