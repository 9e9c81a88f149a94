using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// The checks a source must pass before capture starts, each failure one line that names the
/// setting and how to fix it (binlog disabled and STATEMENT format: <see cref="SourceErrorTests"/>).
/// Run against a throwaway MariaDB whose settings the tests change.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PreflightTests(ThrowawaySourceFixture source) : IClassFixture<ThrowawaySourceFixture>
{
    private async Task<string> TailErrorAsync(string connectionString, string? serverId = null)
    {
        var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--source", connectionString, "--until-now", "--server-id", serverId ?? ReplicaServerIds.Next());
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.StandardError}");
        Assert.Equal("", result.StandardOutput);
        return Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_mixed_binlog_format_fails_naming_binlog_format_and_the_fix()
    {
        await source.Server.ExecuteAsync("SET GLOBAL binlog_format = 'MIXED'");
        try
        {
            var line = await TailErrorAsync(source.Cdc);
            Assert.Contains("binlog_format=MIXED, not ROW", line);
            Assert.Contains("Set binlog_format=ROW", line);
        }
        finally
        {
            await source.Server.ExecuteAsync("SET GLOBAL binlog_format = 'ROW'");
        }
    }

    [Fact]
    public async Task A_minimal_row_image_is_accepted_with_one_warning_about_partial_rows()
    {
        await source.Server.ExecuteAsync("SET GLOBAL binlog_row_image = 'MINIMAL'");
        try
        {
            var result = await ReplicatorCli.RunAsync(TimeSpan.FromMinutes(1), "tail", "--source", source.Cdc, "--until-now", "--server-id", ReplicaServerIds.Next());
            Assert.True(result.ExitCode == 0, result.StandardError);
            var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("replicator: warning: ", line);
            Assert.Contains("binlog_row_image=MINIMAL", line);
            Assert.Contains("absent, not null", line);
            Assert.Contains("Set binlog_row_image=FULL", line);
        }
        finally
        {
            await source.Server.ExecuteAsync("SET GLOBAL binlog_row_image = 'FULL'");
        }
    }

    [Fact]
    public async Task A_server_id_equal_to_the_sources_own_fails_naming_server_id()
    {
        var line = await TailErrorAsync(source.Cdc, serverId: "11");
        Assert.Contains("server-id 11 is the source's own server_id", line);
        Assert.Contains("Give the capture a server-id no server or replica uses", line);
    }

    [Fact]
    public async Task A_server_id_used_by_another_connected_replica_fails_naming_it()
    {
        var connection = await UserAsync("hosts", "REPLICATION SLAVE, REPLICATION CLIENT, REPLICATION MASTER ADMIN, SELECT");
        var serverId = ReplicaServerIds.Next();
        await using var first = TailProcess.Start("--source", connection, "--server-id", serverId);
        var registered = await Eventually.UntilAsync(
            async () => (await source.Server.QueryAsync("SHOW SLAVE HOSTS")).Any(r => Convert.ToString(r[0], System.Globalization.CultureInfo.InvariantCulture) == serverId),
            found => found,
            TimeSpan.FromSeconds(30));
        Assert.True(registered, first.StandardError);

        var line = await TailErrorAsync(connection, serverId);
        Assert.Contains($"server-id {serverId} is already used by a replica connected to the source", line);
        Assert.False(first.HasExited, first.StandardError);
    }

    [Fact]
    public async Task A_user_without_replication_slave_fails_naming_the_privilege()
    {
        var line = await TailErrorAsync(await UserAsync("noslave", "REPLICATION CLIENT, REPLICATION SLAVE ADMIN, SELECT"));
        Assert.Contains("lacks the REPLICATION SLAVE privilege", line);
        Assert.Contains("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.*", line);
    }

    [Fact]
    public async Task A_user_without_replication_client_fails_naming_the_privilege()
    {
        var line = await TailErrorAsync(await UserAsync("noclient", "REPLICATION SLAVE, SELECT"));
        Assert.Contains("lacks REPLICATION CLIENT (BINLOG MONITOR on MariaDB)", line);
        Assert.Contains("GRANT REPLICATION CLIENT ON *.*", line);
    }

    [Fact]
    public async Task A_saved_position_in_a_purged_binlog_fails_naming_the_file_the_oldest_one_and_what_to_do()
    {
        var saved = new BinlogPosition((await source.Server.BinlogFilesAsync())[^1], 4);
        await source.Server.ExecuteAsync("CREATE DATABASE IF NOT EXISTS cap_purge; CREATE TABLE cap_purge.t (id INT PRIMARY KEY); INSERT INTO cap_purge.t VALUES (1)");
        await source.Server.ExecuteAsync("FLUSH BINARY LOGS");
        await source.Server.ExecuteAsync("FLUSH BINARY LOGS");
        var current = (await source.Server.BinlogFilesAsync())[^1];

        // A PURGE may remove nothing until the binlog checkpoint moves on: retry until the file is gone.
        var files = await Eventually.UntilAsync(
            async () =>
            {
                await source.Server.ExecuteAsync($"PURGE BINARY LOGS TO '{current}'");
                return await source.Server.BinlogFilesAsync();
            },
            remaining => !remaining.Contains(saved.File),
            TimeSpan.FromSeconds(10),
            TimeSpan.FromMilliseconds(500));
        Assert.DoesNotContain(saved.File, files);

        var error = await Assert.ThrowsAsync<PreflightException>(() => SourcePreflight.CheckAsync(source.Cdc, 3998, saved));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains($"The saved position {saved} is gone from the source", error.Message);
        Assert.Contains($"{saved.File} was purged (oldest binlog now: {files[0]})", error.Message);
        Assert.Contains("re-seed the sinks and reset the capture's offset, or restore the binlog files", error.Message);
    }

    [Fact]
    public async Task A_saved_position_past_the_end_of_its_file_fails_as_not_this_servers_offset()
    {
        var files = await source.Server.QueryAsync("SHOW BINARY LOGS");
        var (file, size) = ((string)files[^1][0]!, Convert.ToInt64(files[^1][1], System.Globalization.CultureInfo.InvariantCulture));
        var saved = new BinlogPosition(file, size + 1_000_000);

        var error = await Assert.ThrowsAsync<PreflightException>(() => SourcePreflight.CheckAsync(source.Cdc, 3998, saved));
        Assert.Contains($"The saved position {saved} is past the end of {file}", error.Message);
        Assert.Contains("Reset the capture's offset", error.Message);
        Assert.Empty(await SourcePreflight.CheckAsync(source.Cdc, 3998, new BinlogPosition(file, 4)));
    }

    private async Task<string> UserAsync(string user, string grants)
    {
        var existing = await source.Server.QueryAsync($"SELECT 1 FROM mysql.user WHERE user = '{user}'");
        return existing.Count > 0 ? source.Server.ConnectionString(user) : await source.Server.CreateUserAsync(user, grants);
    }
}
