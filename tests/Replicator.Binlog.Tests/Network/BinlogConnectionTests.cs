using System.Net;
using System.Net.Sockets;
using Replicator.Binlog.Network;

namespace Replicator.Binlog.Tests.Network;

/// <summary>Login and text queries against the shared MariaDB.</summary>
public sealed class BinlogConnectionTests
{
    [Fact]
    public async Task Capture_user_logs_in_with_mysql_native_password_and_sees_a_MariaDB_server()
    {
        await using var connection = await BinlogConnection.OpenAsync(NetworkTestEnvironment.Cdc(2001));

        Assert.True(connection.Server.IsMariaDb);
        Assert.StartsWith("10.", connection.Server.Version, StringComparison.Ordinal);
        Assert.True(connection.Server.ConnectionId > 0);
        Assert.Equal("mysql_native_password", connection.AuthenticationPlugin);
        Assert.False(connection.IsSecure);
        Assert.True(connection.DeprecateEof);

        var result = await connection.QueryAsync("SELECT CONNECTION_ID(), CURRENT_USER()");
        Assert.Equal(connection.Server.ConnectionId.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Rows[0][0]);
        Assert.StartsWith("replicator_cdc@", result.Rows[0][1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_returns_column_names_rows_and_NULL_as_null()
    {
        await using var connection = await BinlogConnection.OpenAsync(NetworkTestEnvironment.Cdc(2002));

        var result = await connection.QueryAsync(
            "SELECT 1 AS a, NULL AS b, 'x''y' AS c, '' AS d UNION ALL SELECT 2, 'two', _utf8mb4'h\u00e9\u00e9', NULL");

        Assert.Equal(["a", "b", "c", "d"], result.Columns);
        Assert.Equal(2, result.Rows.Count);
        Assert.Equal(new string?[] { "1", null, "x'y", "" }, result.Rows[0]);
        Assert.Equal(new string?[] { "2", "two", "h\u00e9\u00e9", null }, result.Rows[1]);
        Assert.Equal("two", result.Get(1, "B"));
    }

    [Fact]
    public async Task Server_variables_a_capture_checks_are_readable()
    {
        await using var connection = await BinlogConnection.OpenAsync(NetworkTestEnvironment.Cdc(2003));

        var result = await connection.QueryAsync(
            "SELECT @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, @@global.binlog_checksum, @@gtid_strict_mode, @@server_id");

        Assert.Equal(new string?[] { "ROW", "FULL", "FULL", "CRC32", "1", "1" }, result.Rows[0]);
    }

    [Fact]
    public async Task SHOW_MASTER_STATUS_and_SHOW_BINARY_LOGS_give_the_current_and_oldest_files()
    {
        await using var connection = await BinlogConnection.OpenAsync(NetworkTestEnvironment.Cdc(2004));

        var current = await connection.ReadCurrentPositionAsync();
        var logs = await connection.ReadBinaryLogsAsync();

        Assert.StartsWith("mariadb-bin.", current.File, StringComparison.Ordinal);
        Assert.True(current.Position > 4);
        Assert.Contains(current.File, logs);
        Assert.True(logs[0].CompareTo(current.File) <= 0);
    }

    [Fact]
    public async Task A_server_error_becomes_a_BinlogServerException_with_code_and_state_and_the_connection_stays_usable()
    {
        await using var connection = await BinlogConnection.OpenAsync(NetworkTestEnvironment.Cdc(2005));

        var error = await Assert.ThrowsAsync<BinlogServerException>(async () => await connection.QueryAsync("SELEC 1"));

        Assert.Equal(1064, error.ErrorCode);
        Assert.Equal("42000", error.SqlState);
        Assert.Contains("SQL syntax", error.ServerMessage, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Equal("1", (await connection.QueryAsync("SELECT 1")).Rows[0][0]);
    }

    [Fact]
    public async Task A_statement_without_result_set_reports_affected_rows()
    {
        await NetworkTestEnvironment.AdminAsync(
            "CREATE DATABASE IF NOT EXISTS nettest_query",
            "CREATE OR REPLACE TABLE nettest_query.t (id INT PRIMARY KEY, v VARCHAR(10))");
        await using var admin = await NetworkTestEnvironment.OpenAdminAsync();

        var inserted = await admin.ExecuteAsync("INSERT INTO nettest_query.t VALUES (1, 'a'), (2, 'b'), (3, NULL)");
        var result = await admin.QueryAsync("SELECT id, v FROM nettest_query.t ORDER BY id");

        Assert.Equal(3UL, inserted);
        Assert.Equal(3, result.Rows.Count);
        Assert.Null(result.Rows[2][1]);
    }

    [Fact]
    public async Task A_query_longer_than_16_MB_is_sent_in_several_packets()
    {
        // A statement of 16 MB + some bytes crosses the 0xFFFFFF packet limit on the way to the server.
        var literal = new string('q', PacketLimit + 1000);
        await using var admin = await NetworkTestEnvironment.OpenAdminAsync();

        var result = await admin.QueryAsync($"SELECT LENGTH('{literal}'), 'after'");

        Assert.Equal((PacketLimit + 1000).ToString(System.Globalization.CultureInfo.InvariantCulture), result.Rows[0][0]);
        Assert.Equal("after", result.Rows[0][1]);
    }

    [Fact]
    public async Task A_result_value_longer_than_16_MB_is_joined_from_several_packets()
    {
        await using var admin = await NetworkTestEnvironment.OpenAdminAsync();

        var result = await admin.QueryAsync($"SELECT REPEAT('z', {PacketLimit + 5}), 'next'");

        Assert.Equal(PacketLimit + 5, result.Rows[0][0]!.Length);
        Assert.Equal("next", result.Rows[0][1]);
    }

    [Fact]
    public async Task Wrong_password_is_an_authentication_error_that_quotes_the_server_and_never_the_password()
    {
        const string canary = "CANARY-wrong-password-7f3a";
        var options = NetworkTestEnvironment.Cdc(2006) with { Password = canary };

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains("Access denied for user 'replicator_cdc'", error.Message, StringComparison.Ordinal);
        Assert.Contains("check the source user name and password", error.Message, StringComparison.Ordinal);
        Assert.Contains(options.Endpoint, error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
        Assert.DoesNotContain(canary, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(canary, options.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_port_is_a_connection_error_naming_host_port_and_the_OS_reason()
    {
        var port = UnusedPort();
        var options = NetworkTestEnvironment.Cdc(2007) with { Port = port };

        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("check that the server is running", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task An_unknown_host_name_is_a_connection_error_naming_the_host()
    {
        var options = NetworkTestEnvironment.Cdc(2008) with { Host = "no-such-host.invalid" };

        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains("'no-such-host.invalid'", error.Message, StringComparison.Ordinal);
        Assert.Contains("DNS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_name_is_resolved_before_connecting()
    {
        var options = NetworkTestEnvironment.Cdc(2009) with { Host = "localhost" };

        await using var connection = await BinlogConnection.OpenAsync(options);

        Assert.Equal("localhost:" + options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), connection.Endpoint);
        Assert.Equal("1", (await connection.QueryAsync("SELECT 1")).Rows[0][0]);
    }

    [Fact]
    public async Task SslMode_Required_fails_clearly_when_the_server_offers_no_TLS()
    {
        var options = NetworkTestEnvironment.Cdc(2010) with { SslMode = BinlogSslMode.Required };

        var error = await Assert.ThrowsAsync<BinlogConfigurationException>(async () => await BinlogConnection.OpenAsync(options));

        Assert.Contains("does not offer TLS", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task SslMode_Preferred_falls_back_to_plain_TCP_when_the_server_offers_no_TLS()
    {
        var options = NetworkTestEnvironment.Cdc(2011) with { SslMode = BinlogSslMode.Preferred };

        await using var connection = await BinlogConnection.OpenAsync(options);

        Assert.False(connection.IsSecure);
    }

    [Fact]
    public async Task Cancelling_a_query_throws_OperationCanceledException_and_leaves_the_connection_unusable()
    {
        await using var connection = await BinlogConnection.OpenAsync(NetworkTestEnvironment.Cdc(2012));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await connection.QueryAsync("SELECT SLEEP(5)", cancel.Token));

        await Assert.ThrowsAsync<BinlogConnectionException>(async () => await connection.QueryAsync("SELECT 1"));
    }

    private const int PacketLimit = 0xFFFFFF;

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
