using Akka.Actor;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Configuration;
using Replicator.Engine.Offsets;
using Replicator.Engine.Replication;
using Replicator.Model;

namespace Replicator.Engine.Tests.Serialization;

/// <summary>
/// Bytes that earlier releases wrote to journals, checked in under Fixtures/ as
/// <c>&lt;name&gt;.&lt;manifest&gt;.bin</c>: every later release must still read them as they were meant.
/// </summary>
public sealed class LegacyFormatTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("legacy", ReplicatorSettings.Defaults);

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Fact]
    public void An_offset_journaled_before_offsets_were_versioned_still_reads()
    {
        var committed = Assert.IsType<OffsetCommitted>(Read("offset-committed-gtid.OC.bin"));
        Assert.Equal(new SourceOffset(new BinlogPosition("mariadb-bin.000002", 1234), 7, "0-1-42,1-1-3"), committed.Offset);

        var plain = Assert.IsType<OffsetCommitted>(Read("offset-committed-no-gtid.OC.bin"));
        Assert.Equal(new SourceOffset(new BinlogPosition("binlog.000017", 4), 0, null), plain.Offset);
    }

    [Fact]
    public void A_capture_snapshot_saved_before_offsets_were_versioned_still_reads()
    {
        var snapshot = Assert.IsType<CaptureSnapshot>(Read("capture-snapshot.SN.bin"));
        Assert.Equal(new SourceOffset(new BinlogPosition("mariadb-bin.000009", 98_765), 0, "0-1-1000"), snapshot.Offset);
    }

    [Fact]
    public void A_dead_letter_journaled_with_a_positional_version_still_reads()
    {
        var parked = Assert.IsType<DeadLetterParked>(Read("dead-letter-parked.DP.bin"));
        Assert.Equal(new SourceVersion(1, 300, 0), parked.Change.Version);
        Assert.Equal("0000000100000000012c000000", parked.Change.Version.ToString());
        Assert.Equal(ChangeJson.ToJson(TestChanges.Write(1, 2, 300)), ChangeJson.ToJson(parked.Change));
        Assert.Equal(("cache", 3, "WRONGTYPE", 20), (parked.Definition, parked.Bucket, parked.Error, parked.Attempts));
    }

    [Fact]
    public void A_cleared_dead_letter_journaled_before_park_sequences_still_reads()
    {
        var cleared = Assert.IsType<DeadLetterCleared>(Read("dead-letter-cleared.DZ.bin"));
        Assert.Equal(new DeadLetterCleared("shop", "t", "42", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)), cleared);
    }

    [Fact]
    public void A_dead_letter_snapshot_saved_before_park_sequences_still_reads()
    {
        var snapshot = Assert.IsType<DeadLetterStoreSnapshot>(Read("dead-letter-store-snapshot.DS.bin"));
        Assert.Equal(2, snapshot.Entries.Count);
        Assert.Equal(ChangeJson.ToJson(TestChanges.Write(1, 2, 300)), ChangeJson.ToJson(snapshot.Entries[0].Change));
        Assert.Equal(ChangeJson.ToJson(TestChanges.Delete(7, 8, 900)), ChangeJson.ToJson(snapshot.Entries[1].Change));
        Assert.Equal(("cache", 5, "boom", 4, new DateTime(2026, 2, 2, 0, 0, 0, DateTimeKind.Utc)), (snapshot.Entries[1].Definition, snapshot.Entries[1].Bucket, snapshot.Entries[1].Error, snapshot.Entries[1].Attempts, snapshot.Entries[1].LastFailure));
    }

    private object Read(string fixture)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Serialization", "Fixtures", fixture));
        var manifest = fixture.Split('.')[^2];
        var serializer = _system.Serialization.FindSerializerForType(typeof(OffsetCommitted));
        return _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
    }
}
