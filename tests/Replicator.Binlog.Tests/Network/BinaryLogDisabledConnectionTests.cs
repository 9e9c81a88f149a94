using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>A source without log_bin: the start positions that ask the server say so plainly.</summary>
[Collection(NetworkThrowawayCollection.Name)]
public sealed class BinaryLogDisabledConnectionTests
{
    [Fact]
    public async Task The_current_end_and_the_oldest_file_of_a_server_without_log_bin_are_configuration_errors()
    {
        await using var server = await NetworkThrowawayMariaDb.StartAsync(binaryLog: false);

        await using (var atEnd = await BinlogConnection.OpenAsync(server.Cdc(2701) with { Start = StartPosition.CurrentEnd }))
        {
            var error = await Assert.ThrowsAsync<BinlogConfigurationException>(async () => await atEnd.StartDumpAsync(CancellationToken.None));
            Assert.StartsWith($"binary logging is disabled on the source {atEnd.Endpoint}: set log_bin", error.Message, StringComparison.Ordinal);
            Assert.False(error.IsTransient);
        }

        await using var oldest = await BinlogConnection.OpenAsync(server.Cdc(2702) with { Start = StartPosition.Oldest });
        var oldestError = await Assert.ThrowsAsync<BinlogConfigurationException>(async () => await oldest.StartDumpAsync(CancellationToken.None));
        Assert.Contains("binary logging is disabled on the source", oldestError.Message, StringComparison.Ordinal);
    }
}
