using MySqlConnector;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>Bad sources give one line on stderr that names the problem, and a failing exit code.</summary>
[Collection(ServerCollection.Name)]
public sealed class SourceErrorTests
{
    private static async Task<string> TailErrorAsync(string connectionString)
    {
        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--source", connectionString, "--until-now");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return Assert.Single(lines);
    }

    [Fact]
    public async Task Wrong_credentials_give_one_line_naming_the_credentials_and_never_the_password()
    {
        var builder = new MySqlConnectionStringBuilder(Servers.MariaDbCdc) { Password = "CANARY-wrong-password" };
        var line = await TailErrorAsync(builder.ConnectionString);
        Assert.Contains("Wrong credentials", line);
        Assert.Contains("Access denied for user 'replicator_cdc'", line);
        Assert.DoesNotContain("CANARY", line);
    }

    [Fact]
    public async Task An_unreachable_server_gives_one_line_naming_host_and_port()
    {
        var line = await TailErrorAsync("Server=127.0.0.1;Port=1;User ID=x;Password=CANARY-y;Connection Timeout=5");
        Assert.Contains("Cannot reach the source at 127.0.0.1:1", line);
        Assert.Contains("connection refused", line);
        Assert.DoesNotContain("CANARY", line);
    }

    [Theory]
    [InlineData("--binlog-format=STATEMENT", "binlog_format=STATEMENT, not ROW")]
    [InlineData("--skip-log-bin", "binary logging disabled (log_bin=OFF)")]
    public async Task A_server_without_a_row_based_binlog_gives_one_line_naming_the_setting(string option, string expected)
    {
        var options = option == "--skip-log-bin" ? new[] { "--server-id=9" } : new[] { "--server-id=9", "--log-bin=binlog", option };
        await using var server = await ThrowawayMariaDb.StartAsync(options);
        await server.ExecuteAsync("CREATE USER 'cdc'@'127.0.0.1' IDENTIFIED BY 'pw'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO 'cdc'@'127.0.0.1'");
        var line = await TailErrorAsync($"Server=127.0.0.1;Port={server.Port};User ID=cdc;Password=pw");
        Assert.Contains(expected, line);
    }
}
