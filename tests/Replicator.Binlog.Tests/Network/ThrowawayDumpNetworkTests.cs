using System.Diagnostics;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>Dumps that need a server of their own: heartbeats on an idle source, purged binlogs, 16 MB events, missing privileges.</summary>
[Collection(NetworkThrowawayCollection.Name)]
public sealed class ThrowawayDumpNetworkTests
{
    private readonly NetworkThrowawayServerFixture _fixture;

    public ThrowawayDumpNetworkTests(NetworkThrowawayServerFixture fixture) => _fixture = fixture;

    private NetworkThrowawayMariaDb Server => _fixture.Server;

    [Fact]
    public async Task An_idle_source_sends_heartbeats_at_the_asked_period_and_the_position_does_not_move()
    {
        var options = Server.Cdc(2201) with
        {
            Start = StartPosition.CurrentEnd,
            HeartbeatPeriod = TimeSpan.FromSeconds(1),
            ReadTimeout = TimeSpan.FromSeconds(5),
        };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        await stream.ReadAsync(CancellationToken.None);
        await stream.ReadAsync(CancellationToken.None);
        var position = stream.Position;

        var clock = Stopwatch.StartNew();
        var heartbeats = new List<RawBinlogEvent>();
        while (heartbeats.Count < 2)
        {
            var raw = (await stream.ReadAsync(CancellationToken.None))!.Value;
            Assert.Equal(BinlogEventType.Heartbeat, raw.Type);
            heartbeats.Add(raw);
        }

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4.5));
        Assert.Equal(position, stream.Position);
        Assert.All(heartbeats, h => Assert.Equal(position!.Value.File, h.File));
    }

    [Fact]
    public async Task Dumping_from_a_purged_file_or_GTID_fails_with_both_server_messages_and_the_oldest_file()
    {
        await Server.SqlAsync(
            "CREATE TABLE nettest_throwaway.purged (id INT PRIMARY KEY);"
            + "INSERT INTO nettest_throwaway.purged VALUES (1); FLUSH BINARY LOGS;"
            + "INSERT INTO nettest_throwaway.purged VALUES (2); FLUSH BINARY LOGS;"
            + "INSERT INTO nettest_throwaway.purged VALUES (3); FLUSH BINARY LOGS;");
        var logs = (await Server.SqlAsync("SHOW BINARY LOGS")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToArray();
        var first = logs[0];
        var keep = logs[^2];
        await PurgeAsync(keep);

        var byFile = Server.Cdc(2202) with { Start = StartPosition.At(first, 4), Blocking = false };
        var fileError = await DumpErrorAsync(byFile);
        Assert.Equal(1236, fileError.ErrorCode);
        Assert.Contains("Could not find first log file name in binary log index file", fileError.Message, StringComparison.Ordinal);
        Assert.Contains($"{first}:4", fileError.Message, StringComparison.Ordinal);
        Assert.Contains($"the oldest binlog file the source still holds is {keep}", fileError.Message, StringComparison.Ordinal);

        var byGtid = Server.Cdc(2203) with { Start = StartPosition.After(MariaDbGtidPosition.Parse("0-1-1")), Blocking = false };
        var gtidError = await DumpErrorAsync(byGtid);
        Assert.Equal(1236, gtidError.ErrorCode);
        Assert.Contains("Could not find GTID state requested by slave in any binlog files", gtidError.Message, StringComparison.Ordinal);
        Assert.Contains("GTID position '0-1-1'", gtidError.Message, StringComparison.Ordinal);
        Assert.Contains($"the oldest binlog file the source still holds is {keep}", gtidError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_larger_than_16_MB_arrives_whole_from_several_packets()
    {
        const int size = (20 * 1024 * 1024) + 7;
        await Server.SqlAsync("CREATE TABLE nettest_throwaway.big (id INT PRIMARY KEY, b LONGBLOB)");
        var admin = Server.Cdc(2204);
        BinlogPosition before;
        await using (var connection = await BinlogConnection.OpenAsync(admin))
        {
            before = await connection.ReadCurrentPositionAsync();
        }

        await Server.SqlAsync($"INSERT INTO nettest_throwaway.big VALUES (1, REPEAT('b', {size}))");

        var options = Server.Cdc(2205) with { Start = StartPosition.At(before), Blocking = false };
        await using var dump = await BinlogConnection.OpenAsync(options);
        var stream = await dump.StartDumpAsync(CancellationToken.None);
        var events = await NetworkRawEvents.ReadToEndAsync(stream);

        var rows = Assert.Single(events, NetworkRawEvents.IsWriteRows);
        Assert.True(rows.Data.Length > 0xFFFFFF, $"the rows event is {rows.Data.Length} bytes");
        Assert.InRange(rows.Data.Length, size, size + 200);
        Assert.True(NetworkRawEvents.HasValidChecksum(rows));
        Assert.Equal(BinlogEventType.Xid, events[events.IndexOf(rows) + 1].Type);
    }

    [Fact]
    public async Task A_user_without_REPLICATION_SLAVE_is_told_which_privilege_is_missing()
    {
        var options = Server.Cdc(2206) with
        {
            User = NetworkThrowawayServerFixture.NoReplicationUser,
            Password = NetworkThrowawayServerFixture.NoReplicationPassword,
            Start = StartPosition.At("mariadb-bin.000001", 4),
        };
        await using var connection = await BinlogConnection.OpenAsync(options);

        var error = await Assert.ThrowsAsync<BinlogServerException>(async () => await connection.StartDumpAsync(CancellationToken.None));

        // MariaDB 10.11 answers COM_REGISTER_SLAVE without the privilege with 1045 "Access denied
        // for user … (using password: YES)", so the message has to name the privilege itself.
        Assert.Equal(1045, error.ErrorCode);
        Assert.Contains("Access denied for user 'nettest_noslave'", error.ServerMessage, StringComparison.Ordinal);
        Assert.Contains("needs the REPLICATION SLAVE privilege", error.Message, StringComparison.Ordinal);
        Assert.Contains("server_id 2206", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task The_current_end_needs_binlog_monitor_rights_and_says_so()
    {
        var options = Server.Cdc(2207) with
        {
            User = NetworkThrowawayServerFixture.NoReplicationUser,
            Password = NetworkThrowawayServerFixture.NoReplicationPassword,
        };
        await using var connection = await BinlogConnection.OpenAsync(options);

        var error = await Assert.ThrowsAsync<BinlogServerException>(async () => await connection.ReadCurrentPositionAsync());

        Assert.Equal(1227, error.ErrorCode);
        Assert.Contains("SHOW MASTER STATUS", error.Message, StringComparison.Ordinal);
        Assert.Contains("BINLOG MONITOR", error.Message, StringComparison.Ordinal);
    }

    private static async Task<BinlogServerException> DumpErrorAsync(BinlogClientOptions options)
    {
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        return await Assert.ThrowsAsync<BinlogServerException>(async () => await NetworkRawEvents.ReadToEndAsync(stream));
    }

    /// <summary>PURGE can leave files in place until the binlog checkpoint moves on (FAULTS.md F6): retry until they are gone.</summary>
    private async Task PurgeAsync(string keep)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await Server.SqlAsync($"PURGE BINARY LOGS TO '{keep}'");
            var oldest = (await Server.SqlAsync("SHOW BINARY LOGS")).Split('\t')[0];
            if (oldest == keep)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"PURGE BINARY LOGS TO '{keep}' left {oldest}");
            await Task.Delay(200);
        }
    }
}
