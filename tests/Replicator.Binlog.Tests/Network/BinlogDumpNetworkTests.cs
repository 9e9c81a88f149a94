using System.Globalization;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>Binlog dumps from the shared MariaDB, read as raw events (no decoder involved).</summary>
public sealed class BinlogDumpNetworkTests
{
    private const string Database = "nettest_dump";

    [Fact]
    public async Task A_non_blocking_dump_from_a_position_streams_the_transaction_then_ends_with_EOF()
    {
        await NetworkTestEnvironment.AdminAsync(
            $"CREATE DATABASE IF NOT EXISTS {Database}",
            $"CREATE TABLE IF NOT EXISTS {Database}.position_rows (id INT PRIMARY KEY, v VARCHAR(20))");
        BinlogPosition before;
        await using (var admin = await NetworkTestEnvironment.OpenAdminAsync())
        {
            before = await admin.ReadCurrentPositionAsync();
            await admin.ExecuteAsync($"DELETE FROM {Database}.position_rows");
            await admin.ExecuteAsync($"INSERT INTO {Database}.position_rows VALUES (1, 'one'), (2, 'two'), (3, NULL)");
        }

        var options = NetworkTestEnvironment.Cdc(2021) with { Start = StartPosition.At(before), Blocking = false };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        var events = await NetworkRawEvents.ReadToEndAsync(stream);

        Assert.True(stream.IsCompleted);
        Assert.Equal(BinlogEventType.Rotate, events[0].Type);
        Assert.True(events[0].Header.IsArtificial);
        Assert.Equal(before.File, stream.CurrentFile);
        Assert.Equal(BinlogEventType.FormatDescription, events[1].Type);
        Assert.Equal(ChecksumAlgorithm.Crc32, stream.Checksum);
        Assert.All(events, e => Assert.Equal(e.Header.EventSize, (uint)e.Data.Length));
        Assert.All(events.Skip(1), e => Assert.True(NetworkRawEvents.HasValidChecksum(e), $"{e.Type} keeps its CRC32"));
        Assert.All(events.Skip(1), e => Assert.Equal(before.File, e.File));

        // GTID, TABLE_MAP, WRITE_ROWS, XID of the insert, in that order.
        var map = events.FindLastIndex(e => NetworkRawEvents.IsTableMapOf(e, Database, "position_rows"));
        Assert.True(map > 2, "the insert's table map is in the stream");
        Assert.Equal(BinlogEventType.MariaDbGtid, events[..map].Last(e => e.Type == BinlogEventType.MariaDbGtid).Type);
        Assert.True(NetworkRawEvents.IsWriteRows(events[map + 1]));
        Assert.Contains(events.Skip(map + 2), e => e.Type == BinlogEventType.Xid);

        // The position follows log_pos and ends where the last event ends.
        var last = events.Last(e => e.Header.NextPosition != 0 && !e.Header.IsArtificial);
        Assert.Equal(new BinlogPosition(before.File, last.Header.NextPosition), stream.Position);
    }

    [Fact]
    public async Task A_dump_from_the_oldest_file_starts_with_fake_ROTATE_FORMAT_DESCRIPTION_GTID_LIST_and_BINLOG_CHECKPOINT()
    {
        var options = NetworkTestEnvironment.Cdc(2022) with { Start = StartPosition.Oldest, Blocking = false };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var oldest = (await connection.ReadBinaryLogsAsync())[0];

        var stream = await connection.StartDumpAsync(CancellationToken.None);
        var first = new List<RawBinlogEvent>();
        for (var i = 0; i < 4; i++)
        {
            first.Add((await stream.ReadAsync(CancellationToken.None))!.Value);
        }

        Assert.Equal(
            [BinlogEventType.Rotate, BinlogEventType.FormatDescription, BinlogEventType.GtidList, BinlogEventType.BinlogCheckpoint],
            first.Select(e => e.Type));
        Assert.Equal(oldest, first[1].File);
        Assert.Equal(BinlogPosition.FirstEventPosition, first[1].Header.Position);
        Assert.Equal(new BinlogPosition(oldest, first[3].Header.NextPosition), stream.Position);
    }

    [Fact]
    public async Task A_non_blocking_dump_from_the_current_end_ends_right_after_the_format_description()
    {
        var options = NetworkTestEnvironment.Cdc(2023) with { Start = StartPosition.CurrentEnd, Blocking = false };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);

        var events = await NetworkRawEvents.ReadToEndAsync(stream);

        Assert.Equal([BinlogEventType.Rotate, BinlogEventType.FormatDescription], events.Take(2).Select(e => e.Type));
        Assert.True(stream.IsCompleted);
        Assert.Null(await stream.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_MariaDB_GTID_start_sends_the_transactions_after_the_position_and_learns_the_file_from_the_fake_ROTATE()
    {
        await NetworkTestEnvironment.AdminAsync(
            $"CREATE DATABASE IF NOT EXISTS {Database}",
            $"CREATE TABLE IF NOT EXISTS {Database}.gtid_rows (id INT PRIMARY KEY AUTO_INCREMENT, v INT)");
        MariaDbGtidPosition before;
        BinlogPosition file;
        await using (var admin = await NetworkTestEnvironment.OpenAdminAsync())
        {
            before = MariaDbGtidPosition.Parse((await admin.QueryAsync("SELECT @@gtid_binlog_pos")).Rows[0][0]!);
            await admin.ExecuteAsync($"INSERT INTO {Database}.gtid_rows (v) VALUES (42)");
            file = await admin.ReadCurrentPositionAsync();
        }

        var options = NetworkTestEnvironment.Cdc(2024) with { Start = StartPosition.After(before), Blocking = false };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        Assert.Equal("", stream.CurrentFile);
        var events = await NetworkRawEvents.ReadToEndAsync(stream);

        Assert.Equal(BinlogEventType.Rotate, events[0].Type);
        Assert.Equal("", events[0].File);
        Assert.Equal(file.File, stream.CurrentFile);
        Assert.All(events.Skip(1), e => Assert.Equal(file.File, e.File));
        var firstGtid = NetworkRawEvents.MariaDbGtid(events.First(e => e.Type == BinlogEventType.MariaDbGtid));
        Assert.True(before.TryGet(0, out var previous));
        Assert.Equal(previous.Sequence + 1, firstGtid.Sequence);
        Assert.Contains(events, e => NetworkRawEvents.IsTableMapOf(e, Database, "gtid_rows"));
    }

    [Fact]
    public async Task A_missing_binlog_file_ends_the_dump_with_error_1236_naming_the_position_and_the_oldest_file()
    {
        var options = NetworkTestEnvironment.Cdc(2025) with { Start = StartPosition.At("mariadb-bin.999999", 4), Blocking = false };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var oldest = (await connection.ReadBinaryLogsAsync())[0];
        var stream = await connection.StartDumpAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<BinlogServerException>(async () => await NetworkRawEvents.ReadToEndAsync(stream));

        Assert.Equal(1236, error.ErrorCode);
        Assert.Contains("Could not find first log file name in binary log index file", error.ServerMessage, StringComparison.Ordinal);
        Assert.Contains("mariadb-bin.999999:4", error.Message, StringComparison.Ordinal);
        Assert.Contains("purged", error.Message, StringComparison.Ordinal);
        Assert.Contains($"the oldest binlog file the source still holds is {oldest}", error.Message, StringComparison.Ordinal);
        Assert.Contains("re-snapshot", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task A_GTID_position_the_server_never_wrote_ends_the_dump_with_error_1236_naming_the_GTID()
    {
        string current;
        await using (var admin = await NetworkTestEnvironment.OpenAdminAsync())
        {
            current = (await admin.QueryAsync("SELECT @@gtid_binlog_pos")).Rows[0][0]!;
        }

        var ahead = MariaDbGtidPosition.Parse(current).Gtids.First() with { Sequence = 999_999_999 };
        var position = MariaDbGtidPosition.Of([ahead]);
        var options = NetworkTestEnvironment.Cdc(2026) with { Start = StartPosition.After(position), Blocking = false };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<BinlogServerException>(async () => await NetworkRawEvents.ReadToEndAsync(stream));

        Assert.Equal(1236, error.ErrorCode);
        Assert.Contains($"GTID position '{position}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_dump_is_registered_as_a_replica_and_shows_as_one_Binlog_Dump_thread()
    {
        const uint serverId = 2027;
        var options = NetworkTestEnvironment.Cdc(serverId) with { Start = StartPosition.CurrentEnd, Blocking = true };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        await stream.ReadAsync(CancellationToken.None);

        await using var admin = await NetworkTestEnvironment.OpenAdminAsync();
        var hosts = await admin.QueryAsync("SHOW SLAVE HOSTS");
        var dumps = await admin.QueryAsync(
            $"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' AND ID = {connection.Server.ConnectionId}");

        Assert.Contains(hosts.Rows, r => r[hosts.IndexOf("Server_id")] == serverId.ToString(CultureInfo.InvariantCulture));
        Assert.Equal("1", dumps.Rows[0][0]);
    }

    [Fact]
    public async Task A_blocking_dump_delivers_new_transactions_as_they_commit_and_stops_when_cancelled()
    {
        await NetworkTestEnvironment.AdminAsync(
            $"CREATE DATABASE IF NOT EXISTS {Database}",
            $"CREATE TABLE IF NOT EXISTS {Database}.live_rows (id INT PRIMARY KEY AUTO_INCREMENT, v INT)");
        var options = NetworkTestEnvironment.Cdc(2028) with { Start = StartPosition.CurrentEnd, Blocking = true };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        Assert.Equal(BinlogEventType.Rotate, (await stream.ReadAsync(CancellationToken.None))!.Value.Type);
        Assert.Equal(BinlogEventType.FormatDescription, (await stream.ReadAsync(CancellationToken.None))!.Value.Type);

        await NetworkTestEnvironment.AdminAsync($"INSERT INTO {Database}.live_rows (v) VALUES (7)");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        RawBinlogEvent raw;
        do
        {
            raw = (await stream.ReadAsync(timeout.Token))!.Value;
        }
        while (!NetworkRawEvents.IsTableMapOf(raw, Database, "live_rows"));

        Assert.True(NetworkRawEvents.IsWriteRows((await stream.ReadAsync(timeout.Token))!.Value));
        Assert.False(stream.IsCompleted);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            while (true)
            {
                await stream.ReadAsync(cancel.Token);
            }
        });
    }
}
