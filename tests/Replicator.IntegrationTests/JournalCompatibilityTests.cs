using Replicator.Engine;
using Replicator.Engine.Configuration;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Existing journals keep working: a node of this release, started on the embedded journal a node of
/// an earlier release left behind (tests/fixtures/journals/), resumes where that node stopped. The
/// source is a fresh server given the statements the recording saw, so its binlog is the recorded
/// one; rows changed after the journal's offset and before the node starts are applied only if the
/// capture resumes exactly there (not at the binlog's end, not at its start).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class JournalCompatibilityTests : IAsyncLifetime
{
    private readonly string _keyPrefix = Servers.UniqueSchema("it_journal") + ":";
    private readonly string _data = Directory.CreateTempSubdirectory("replicator-journal-").FullName;
    private ThrowawayMariaDb? _server;
    private ReplicatorNode? _node;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.System.Terminate();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_data, recursive: true);
    }

    /// <summary>The journals: one per persisted offset format that releases wrote.</summary>
    public static TheoryData<string> Fixtures => ["positional-offset", "protobuf-offset"];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task A_node_started_on_a_journal_an_earlier_release_wrote_resumes_at_its_offset(string name)
    {
        var fixture = JournalFixture.Load(name);
        _server = await JournalFixture.StartSourceAsync();
        await JournalFixture.PrepareSourceAsync(_server);
        await JournalFixture.WriteRecordedRowsAsync(_server);
        var end = await _server.MasterStatusAsync();
        var version = await _server.ScalarAsync<string>("SELECT @@version");
        Assert.True(
            end == (fixture.BinlogFile, fixture.BinlogPosition),
            $"The fixture's statements end this MariaDB's ({version}) binlog at {end.File}:{end.Position}, the recording's at {fixture.BinlogFile}:{fixture.BinlogPosition}: "
            + $"the server writes another binlog than the one {fixture.RecordedBy} read. Re-record with tests/fixtures/journals/record.sh {name} {fixture.RecordedBy}.");
        Assert.Equal(fixture.Gtid, await _server.ScalarAsync<string>("SELECT @@gtid_binlog_pos"));

        // After the journal's offset, before any node of this release runs.
        await _server.ExecuteAsync($"INSERT INTO {JournalFixture.Schema}.t VALUES (4, 40); UPDATE {JournalFixture.Schema}.t SET v = 11 WHERE id = 1");
        File.Copy(fixture.JournalFile, Path.Combine(_data, "replicator.db"));

        _node = await ReplicatorNode.StartAsync(HoconLoader.LoadString(NodeHocon()));
        await TestNode.WaitForCaptureAsync(_node, JournalFixture.Source);
        await _server.ExecuteAsync($"INSERT INTO {JournalFixture.Schema}.t VALUES (5, 50)");

        using var redis = Servers.ConnectRedis();
        var db = redis.GetDatabase();
        var key = (int id) => $"{_keyPrefix}{JournalFixture.Schema}:t:{id}";
        var applied = await Eventually.UntilAsync(
            async () => (await db.HashGetAsync(key(1), "v"), await db.HashGetAsync(key(4), "v"), await db.HashGetAsync(key(5), "v")),
            v => v.Item1 == "11" && v.Item2 == "40" && v.Item3 == "50",
            TimeSpan.FromSeconds(60));
        Assert.Equal(("11", "40", "50"), ((string?)applied.Item1, (string?)applied.Item2, (string?)applied.Item3));

        // Rows 2 and 3 were captured before the journal's offset and not changed since: a capture
        // that read the binlog from its start would have written them.
        Assert.False(await db.KeyExistsAsync(key(2)), "row 2, before the journal's offset, was applied: the capture did not resume at the offset");
        Assert.False(await db.KeyExistsAsync(key(3)), "row 3, before the journal's offset, was applied: the capture did not resume at the offset");

        // The offsets this release commits from there on are bound to the server, whatever the journal held.
        var status = await Eventually.UntilAsync(
            () => _node.GetCaptureStatusAsync(JournalFixture.Source, TimeSpan.FromSeconds(5)),
            s => s.PersistedOffset?.Server is not null,
            TimeSpan.FromSeconds(30));
        Assert.Equal(31u, status.PersistedOffset?.Server?.ServerId);
    }

    private string NodeHocon() => $$"""
        akka.loglevel = WARNING
        replicator {
          data-dir = {{Quote(_data)}}
          capture.offset-commit-interval = 200ms
          definitions.cache {
            topics = ["*"]
            buckets = 4
            job {
              type = redis-cache
              redis = {{Quote(Servers.Redis)}}
              key-prefix = {{Quote(_keyPrefix)}}
            }
          }
        }
        {{JournalFixture.SourceHocon(_server!)}}
        """;

    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);
}
