using Replicator.Engine;
using Replicator.Host.Commands;
using Replicator.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Replicator.IntegrationTests;

/// <summary>
/// A fail-over to a promoted replica: a capture of server A, whose replica B (GTIDs, strict mode,
/// log-slave-updates) is promoted; the source is pointed at B. B's binlog files are numbered lower
/// than A's, so versions by file position would make every change on B look older than A's.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Pointed_at_a_promoted_replica_without_resume_by_gtid_the_capture_refuses_naming_both_servers()
    {
        await using var pair = await ReplicaPair.StartAsync();
        var schema = await pair.CreateWorkloadAsync();
        var prefix = $"{schema}:";
        var data = Directory.CreateTempSubdirectory("replicator-failover-").FullName;
        using var redis = Servers.ConnectRedis();
        try
        {
            var onA = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7202, pair.SourceSettings(pair.A, "start = oldest")));
            await using var stopA = new StopOnDispose(onA);
            var checkA = new RedisSinkChecker(pair.A.ConnectionString("cdc"), redis, prefix);
            Assert.True((await Eventually.UntilAsync(() => checkA.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(60))).Matches);
            await stopA.StopAsync();

            await pair.PromoteBAsync();
            await pair.B.RootExecuteAsync($"UPDATE {schema}.t SET v = v + 100 WHERE id <= 120");
            var onB = await ReplicatorNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7202, pair.SourceSettings(pair.B)));
            try
            {
                var status = await Eventually.UntilAsync(() => onB.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(30));
                output.WriteLine(status.LastError);
                Assert.Equal("backing-off", status.State);
                Assert.Contains("server_id 1 at 127.0.0.1:" + pair.A.Port, status.LastError);
                Assert.Contains("server_id 2 at 127.0.0.1:" + pair.B.Port, status.LastError);
                Assert.Contains("replicator.sources.it.resume-by = gtid", status.LastError);
                Assert.Equal(0, onB.Metrics.Source("it").Captured);
            }
            finally
            {
                await onB.StopAsync();
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task After_reset_master_a_capture_resuming_by_position_refuses_naming_the_reset()
    {
        await using var server = await ThrowawayMariaDb.StartAsync("--server-id=1", "--log-bin=binlog", "--gtid-strict-mode=ON", "--binlog-format=ROW", "--binlog-row-metadata=FULL");
        await server.CreateUserAsync("cdc", "REPLICATION SLAVE, BINLOG MONITOR, SELECT");
        var schema = Servers.UniqueSchema("it_reset");
        var prefix = $"{schema}:";
        var data = Directory.CreateTempSubdirectory("replicator-reset-").FullName;
        var source = $"replicator.sources.it {{ connection-string = {System.Text.Json.JsonSerializer.Serialize(server.ConnectionString("cdc"))}, start = oldest }}";
        try
        {
            await server.RootExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v BIGINT NOT NULL)");
            var first = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7203, source));
            await using (var stop = new StopOnDispose(first))
            {
                for (var id = 1; id <= 30; id++)
                {
                    await server.RootExecuteAsync($"INSERT INTO {schema}.t VALUES ({id}, {id})");
                }

                var end = (string)(await server.RootQueryAsync("SELECT @@gtid_binlog_pos"))[0][0]!;
                var saved = await Eventually.UntilAsync(() => first.GetCaptureStatusAsync("it"), s => s.PersistedOffset?.Gtid == end, TimeSpan.FromSeconds(30));
                Assert.Equal(end, saved.PersistedOffset?.Gtid);
            }

            // A reset binlog, written past the saved position again: the position now points into other transactions.
            await server.RootExecuteAsync("RESET MASTER");
            for (var id = 31; id <= 90; id++)
            {
                await server.RootExecuteAsync($"INSERT INTO {schema}.t VALUES ({id}, {id})");
            }

            var again = await ReplicatorNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7203, source));
            await using var stopAgain = new StopOnDispose(again);
            var status = await Eventually.UntilAsync(() => again.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(30));
            output.WriteLine(status.LastError);
            Assert.Equal("backing-off", status.State);
            Assert.Contains("RESET MASTER", status.LastError);
            Assert.Contains("replicator.sources.it.resume-by = gtid", status.LastError);
            Assert.Equal(0, again.Metrics.Source("it").Captured);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
