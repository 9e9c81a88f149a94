using System.Diagnostics;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// FAULTS.md F3: the source is killed or frozen under a running dump. Each test starts a MariaDB of
/// its own, so killing it disturbs nobody.
/// </summary>
[Collection(NetworkThrowawayCollection.Name)]
public sealed class ConnectionLossNetworkTests
{
    [Fact]
    public async Task Killing_the_source_with_SIGKILL_fails_the_dump_at_once_with_a_connection_error()
    {
        await using var server = await NetworkThrowawayMariaDb.StartAsync();
        var options = server.Cdc(2301) with { Start = StartPosition.CurrentEnd, HeartbeatPeriod = TimeSpan.FromSeconds(2), ReadTimeout = TimeSpan.FromSeconds(30) };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        Assert.Equal(BinlogEventType.Rotate, (await stream.ReadAsync(CancellationToken.None))!.Value.Type);
        Assert.Equal(BinlogEventType.FormatDescription, (await stream.ReadAsync(CancellationToken.None))!.Value.Type);

        var pending = stream.ReadAsync(CancellationToken.None).AsTask();
        var clock = Stopwatch.StartNew();
        await server.KillAsync();

        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await pending);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"noticed after {clock.Elapsed}");
        Assert.Contains(options.Endpoint, error.Message, StringComparison.Ordinal);
        Assert.True(error.IsTransient);
        Assert.True(connection.Channel.IsBroken);
        await Assert.ThrowsAsync<BinlogConnectionException>(async () => await stream.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_frozen_source_fails_the_dump_after_the_read_timeout()
    {
        await using var server = await NetworkThrowawayMariaDb.StartAsync();
        var options = server.Cdc(2302) with
        {
            Start = StartPosition.CurrentEnd,
            HeartbeatPeriod = TimeSpan.FromSeconds(1),
            ReadTimeout = TimeSpan.FromSeconds(2),
        };
        await using var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        await stream.ReadAsync(CancellationToken.None);
        await stream.ReadAsync(CancellationToken.None);

        // Heartbeats keep an idle but live source from timing out.
        Assert.Equal(BinlogEventType.Heartbeat, (await stream.ReadAsync(CancellationToken.None))!.Value.Type);
        Assert.Equal(BinlogEventType.Heartbeat, (await stream.ReadAsync(CancellationToken.None))!.Value.Type);

        await server.SignalAsync("STOP");
        try
        {
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () =>
            {
                while (true)
                {
                    await stream.ReadAsync(CancellationToken.None);
                }
            });

            // Detection within 2 x the heartbeat period after the last heartbeat (FAULTS.md F3 c).
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));
            Assert.Equal($"no data from {options.Endpoint} for 2s: the connection is dead or half-open", error.Message);
        }
        finally
        {
            await server.SignalAsync("CONT");
        }
    }

    [Fact]
    public async Task Disposing_the_connection_aborts_a_pending_read()
    {
        await using var server = await NetworkThrowawayMariaDb.StartAsync();
        var options = server.Cdc(2303) with { Start = StartPosition.CurrentEnd, HeartbeatPeriod = TimeSpan.FromSeconds(30), ReadTimeout = TimeSpan.FromSeconds(60) };
        var connection = await BinlogConnection.OpenAsync(options);
        var stream = await connection.StartDumpAsync(CancellationToken.None);
        await stream.ReadAsync(CancellationToken.None);
        await stream.ReadAsync(CancellationToken.None);

        var pending = stream.ReadAsync(CancellationToken.None).AsTask();
        await Task.Delay(200);
        await connection.DisposeAsync();

        var error = await Assert.ThrowsAsync<BinlogConnectionException>(async () => await pending.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("closed by this client", error.Message, StringComparison.Ordinal);
    }
}
