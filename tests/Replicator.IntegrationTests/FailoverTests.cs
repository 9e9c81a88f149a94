using Replicator.Engine.Capture;
using Replicator.Engine;
using Replicator.Engine.Jobs.RedisCache;
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
    public async Task After_a_fail_over_to_a_promoted_replica_resumed_by_gtid_the_sink_follows_it_row_for_row_and_nothing_is_refused()
    {
        await using var pair = await ReplicaPair.StartAsync();
        var schema = await pair.CreateWorkloadAsync();
        var prefix = $"{schema}:";
        var data = Directory.CreateTempSubdirectory("replicator-failover-").FullName;
        using var redis = Servers.ConnectRedis();
        try
        {
            var onA = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7201, pair.SourceSettings(pair.A, "start = oldest")));
            await using var stopA = new StopOnDispose(onA);
            await pair.A.ExecuteAsync($"UPDATE {schema}.t SET v = v + 1 WHERE id <= 150; DELETE FROM {schema}.t WHERE id > 190; INSERT INTO {schema}.t VALUES (1001, 1), (1002, 2)");
            var checkA = new RedisCacheSinkChecker(pair.A.ConnectionString("cdc"), redis, prefix);
            var matchedA = await Eventually.UntilAsync(() => checkA.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(60));
            Assert.True(matchedA.Matches, matchedA + "\n" + string.Join("\n", matchedA.Examples));
            var onAOffset = (await onA.GetCaptureStatusAsync("it")).PersistedOffset;
            Assert.Equal(0, onA.Metrics.Definition("cache").StaleRefused);
            await stopA.StopAsync();

            await pair.PromoteBAsync();
            var onB = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7201, pair.SourceSettings(pair.B, "resume-by = gtid")));
            try
            {
                await pair.B.ExecuteAsync($"""
                    UPDATE {schema}.t SET v = v + 100 WHERE id <= 120;
                    UPDATE {schema}.t SET v = v * 2 WHERE id BETWEEN 50 AND 60;
                    DELETE FROM {schema}.t WHERE id BETWEEN 170 AND 175;
                    INSERT INTO {schema}.t VALUES (2001, 1), (2002, 2), (180, 5) ON DUPLICATE KEY UPDATE v = v + 1000;
                    UPDATE {schema}.t SET id = 3000 WHERE id = 1001;
                    """);
                var checkB = new RedisCacheSinkChecker(pair.B.ConnectionString("cdc"), redis, prefix);
                var matchedB = await Eventually.UntilAsync(() => checkB.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(60));
                // The sink can match before the capture on B persists its first offset (every
                // offset-commit-interval): until then the persisted offset is the one A left.
                var endB = (string)(await pair.B.QueryAsync("SELECT @@gtid_binlog_pos"))[0][0]!;
                var status = await Eventually.UntilAsync(() => onB.GetCaptureStatusAsync("it"), s => s.PersistedOffset?.Gtid == endB, TimeSpan.FromSeconds(30));
                output.WriteLine($"A offset {onAOffset} on {onAOffset?.Server}; B offset {status.PersistedOffset} on {status.PersistedOffset?.Server}; stale refused on B: {onB.Metrics.Definition("cache").StaleRefused}");
                Assert.True(matchedB.Matches, matchedB + "\n" + string.Join("\n", matchedB.Examples));
                Assert.Equal(0, onB.Metrics.Definition("cache").StaleRefused);
                Assert.Equal(2u, status.PersistedOffset!.Server!.ServerId);
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
            var checkA = new RedisCacheSinkChecker(pair.A.ConnectionString("cdc"), redis, prefix);
            Assert.True((await Eventually.UntilAsync(() => checkA.CheckAsync(schema, "t"), r => r.Matches, TimeSpan.FromSeconds(60))).Matches);
            await stopA.StopAsync();

            await pair.PromoteBAsync();
            await pair.B.ExecuteAsync($"UPDATE {schema}.t SET v = v + 100 WHERE id <= 120");
            var onB = await ReplicatorNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7202, pair.SourceSettings(pair.B)));
            try
            {
                var status = await Eventually.UntilAsync(() => onB.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(30));
                output.WriteLine(status.LastError);
                Assert.Equal(CaptureState.BackingOff, status.State);
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
            await server.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v BIGINT NOT NULL)");
            var first = await TestNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7203, source));
            await using (var stop = new StopOnDispose(first))
            {
                for (var id = 1; id <= 30; id++)
                {
                    await server.ExecuteAsync($"INSERT INTO {schema}.t VALUES ({id}, {id})");
                }

                var end = (string)(await server.QueryAsync("SELECT @@gtid_binlog_pos"))[0][0]!;
                var saved = await Eventually.UntilAsync(() => first.GetCaptureStatusAsync("it"), s => s.PersistedOffset?.Gtid == end, TimeSpan.FromSeconds(30));
                Assert.Equal(end, saved.PersistedOffset?.Gtid);
            }

            // A reset binlog, written past the saved position again: the position now points into other transactions.
            await server.ExecuteAsync("RESET MASTER");
            for (var id = 31; id <= 90; id++)
            {
                await server.ExecuteAsync($"INSERT INTO {schema}.t VALUES ({id}, {id})");
            }

            var again = await ReplicatorNode.StartAsync(TestNode.Config(data, schema, prefix, serverId: 7203, source));
            await using var stopAgain = new StopOnDispose(again);
            var status = await Eventually.UntilAsync(() => again.GetCaptureStatusAsync("it"), s => s.LastError is not null, TimeSpan.FromSeconds(30));
            output.WriteLine(status.LastError);
            Assert.Equal(CaptureState.BackingOff, status.State);
            Assert.Contains("RESET MASTER", status.LastError);
            Assert.Contains("replicator.sources.it.resume-by = gtid", status.LastError);
            Assert.Equal(0, again.Metrics.Source("it").Captured);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_capture_started_at_the_end_saves_the_servers_whole_gtid_position_every_domain_included()
    {
        await using var server = await ThrowawayMariaDb.StartAsync("--server-id=1", "--log-bin=binlog", "--gtid-strict-mode=ON", "--binlog-format=ROW", "--binlog-row-metadata=FULL");
        await server.CreateUserAsync("cdc", "REPLICATION SLAVE, BINLOG MONITOR, SELECT");
        var schema = Servers.UniqueSchema("it_domains");
        var data = Directory.CreateTempSubdirectory("replicator-domains-").FullName;
        try
        {
            // Domain 5 holds transactions from before the capture starts, and none after.
            await server.ExecuteAsync($"CREATE DATABASE {schema}; CREATE TABLE {schema}.t (id INT PRIMARY KEY, v BIGINT NOT NULL); SET SESSION gtid_domain_id = 5; INSERT INTO {schema}.t VALUES (1, 1), (2, 2)");
            var node = await TestNode.StartAsync(TestNode.Config(data, schema, $"{schema}:", serverId: 7204, $"replicator.sources.it.connection-string = {System.Text.Json.JsonSerializer.Serialize(server.ConnectionString("cdc"))}"));
            await using var stop = new StopOnDispose(node);
            await server.ExecuteAsync($"INSERT INTO {schema}.t VALUES (3, 3)");
            var end = (string)(await server.QueryAsync("SELECT @@gtid_binlog_pos"))[0][0]!;
            var status = await Eventually.UntilAsync(() => node.GetCaptureStatusAsync("it"), s => s.PersistedOffset?.Gtid == end, TimeSpan.FromSeconds(30));
            output.WriteLine($"{end}: {status.PersistedOffset}");
            Assert.Equal(end, status.PersistedOffset?.Gtid);
            Assert.Contains("5-1-", end);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
