using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>Two readers registered with one server_id on the real MariaDB: the server evicts the older one.</summary>
public sealed class ServerIdCollisionTests
{
    [Fact]
    public async Task A_second_reader_with_the_same_server_id_ends_the_first_with_an_error_that_names_the_collision()
    {
        var options = NetworkTestEnvironment.Cdc(2691) with { Start = StartPosition.CurrentEnd, Blocking = true, HeartbeatPeriod = TimeSpan.FromSeconds(1) };
        await using var first = new BinlogClient(options);
        await using var second = new BinlogClient(options);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var firstRead = Task.Run(async () =>
        {
            await foreach (var e in first.ReadEventsAsync(timeout.Token))
            {
                _ = e;
            }
        });

        // The first reader is registered once it has read its dump's first events.
        await Task.Delay(1500);
        var secondRead = Task.Run(async () =>
        {
            await foreach (var e in second.ReadEventsAsync(timeout.Token))
            {
                _ = e;
            }
        });

        var error = await Assert.ThrowsAsync<BinlogServerException>(() => firstRead);
        timeout.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(() => secondRead);

        Assert.Contains("server_id 2691", error.Message, StringComparison.Ordinal);
        Assert.Contains("another replica", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("check that this position exists", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }
}
