using Akka.Actor;
using Akka.Configuration;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Configuration;
using Replicator.Engine.Membership;
using Replicator.Engine.Offsets;
using Replicator.Engine.Replication;
using Replicator.Engine.Serialization;
using Replicator.Engine.Serialization.Protos;
using Replicator.Model;

namespace Replicator.Engine.Tests.Serialization;

public sealed class ReplicatorSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serialization", ReplicatorSettings.Defaults);

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private static readonly string[] Names = ["id", "i", "u", "f", "d", "dec", "y", "date", "dt", "ts", "t", "s", "b", "bit", "e", "set", "j", "g", "n", "absent", "diff"];

    internal static RowChange EveryKind()
    {
        ColumnValue[] values =
        [
            ColumnValue.FromInt64(-9_223_372_036_854_775_808),
            ColumnValue.FromInt64(42),
            ColumnValue.FromUInt64(18_446_744_073_709_551_615),
            ColumnValue.FromFloat(12345.679f),
            ColumnValue.FromDouble(123456789.09876543),
            ColumnValue.FromDecimal("-1234567890112233445566778899001112223334445556667778889.9900011112"),
            ColumnValue.FromYear(1989),
            ColumnValue.FromDate(0, 0, 0),
            ColumnValue.FromDateTime(1988, 11, 27, 14, 12, 13, 345_000, 3),
            ColumnValue.FromTimestamp(498_046_943, 567_000, 3),
            ColumnValue.FromTime(-((507L * 3600) + (48 * 60) + 27) * 1_000_000, 0),
            ColumnValue.FromString("café ✓ 𝄞"),
            ColumnValue.FromBytes([0, 1, 2, 255]),
            ColumnValue.FromBit(0b101, 3),
            ColumnValue.FromEnum(2, "Medium"),
            ColumnValue.FromSet(5, "one,three"),
            ColumnValue.FromJson("{\"id\":1,\"name\":\"John\"}"),
            ColumnValue.FromGeometry([1, 1, 0, 0, 0], 4326),
            ColumnValue.Null,
            ColumnValue.Absent,
            ColumnValue.FromJsonDiff([new JsonDiff(JsonDiffOperation.Replace, "$.age", "26"), new JsonDiff(JsonDiffOperation.Remove, "$.x", null)]),
        ];
        var after = new RowData(Names, values);
        var before = new RowData(Names, values.Select(v => v.IsAbsent ? ColumnValue.Null : v).ToArray());
        return new RowChange("src", "shop", "all_types", ChangeAction.Update, new RowKey(["id"], [values[0]]), before, after,
            new ChangePosition("mariadb-bin.000007", 123_456, "0-1-99"), new SourceVersion(7, 123_456, 3), new DateTime(2026, 11, 24, 6, 0, 0, DateTimeKind.Utc));
    }

    public static TheoryData<object> Messages() => new()
    {
        new DeliverChanges("cache", 5, "src-0123456789ab", 17, [new SequencedChange(17, EveryKind()), new SequencedChange(18, TestChanges.Delete(3, 4, 500))]),
        new ChangesFinished("cache", 5, "src-0123456789ab", [17L, 18L]),
        new DeliveriesReleased("cache", 5, "src-0123456789ab", [19L, 20L]),
        new DeliveriesHeld("cache", 6, "src-0123456789ab", [21L, 22L, 40L]),
        GetCaptureStatus.Instance,
        new CaptureStatus("src", CaptureState.Reading, "src-1", new SourceOffset(new BinlogPosition("f.000001", 4), 0, null), new SourceOffset(new BinlogPosition("f.000002", 900), 3, "0-1-5"), 10, 2, 1, "boom", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)),
        new CaptureStatus("src", CaptureState.Reading, "src-1", new SourceOffset(new BinlogPosition("f.000001", 4), 0, "0-1-5") { Server = new SourceServer(7, "3e11fa47-71ca-11e1-9e33-c80aa9429562", "db2:3306") }, null, 10, 2, 1, null, null),
        new OffsetCommitted(new SourceOffset(new BinlogPosition("mariadb-bin.000002", 1234), 7, "0-1-42,1-1-3")),
        new OffsetCommitted(new SourceOffset(new BinlogPosition("mariadb-bin.000002", 1234), 0, "0-1-42") { Server = new SourceServer(1, null, "db1:3306") }),
        new OffsetCommitted(new SourceOffset(new BinlogPosition("binlog.000002", 4), 0, null) { Server = new SourceServer(7, "3e11fa47-71ca-11e1-9e33-c80aa9429562", "db2:3306") }),
        new CaptureSnapshot(new SourceOffset(new BinlogPosition("mariadb-bin.000002", 1234), 0, null)),
        new CaptureSnapshot(new SourceOffset(new BinlogPosition("mariadb-bin.000002", 1234), 3, "0-2-9") { Server = new SourceServer(2, null, "db2:3306") }),
        new DeadLetterParked("cache", 3, TestChanges.Write(1, 2, 300), "WRONGTYPE", 20, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc)),
        new DeadLetterStoreSnapshot([new DeadLetterParked("cache", 3, TestChanges.Write(1, 2, 300), "x", 1, DateTime.UnixEpoch, DateTime.UnixEpoch)]),
        DeadLetterAccepted.Instance,
        ListDeadLetters.Instance,
        new ListDeadLetterPage(200, 50),
        new DeadLetterPage(1234, 200, [new DeadLetterParked("cache", 3, TestChanges.Write(1, 2, 300), "x", 1, DateTime.UnixEpoch, DateTime.UnixEpoch), new DeadLetterParked("cache", 1, EveryKind(), "y", 2, DateTime.UnixEpoch, DateTime.UnixEpoch)], 202),
        new DeadLetterPage(2, 0, [], null),
        PurgeDeadLetters.Instance,
        new DeadLettersPurged(12),
        RetryDeadLetters.Instance,
        new DeadLettersRetrying(3),
        new DeadLetterCleared("shop", "t", "42", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)),
        new DeadLetterResolved(77),
        new DeadLetterStoreState(9, [new StoredDeadLetter(4, new DeadLetterParked("cache", 3, TestChanges.Write(1, 2, 300), "x", 1, DateTime.UnixEpoch, DateTime.UnixEpoch)), new StoredDeadLetter(9, new DeadLetterParked("cache", 1, EveryKind(), "y", 2, DateTime.UnixEpoch, DateTime.UnixEpoch))]),
        new MemberFacts("replicator", "0123456789abcdef", "mysql:db1:3306/journal"),
        new MemberFacts("staging", "fedcba9876543210", "sqlite:host:/var/lib/replicator/replicator.db", Answer: true),
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_wire_message_round_trips_through_the_project_serializer(object message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<ReplicatorSerializer>(serializer);
        var manifest = ((ReplicatorSerializer)serializer).Manifest(message);
        Assert.InRange(manifest.Length, 2, 2);
        Assert.DoesNotContain(manifest, new[] { "OC", "SN" });
        var copy = _system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
        Assert.Equal(Render(message), Render(copy));
    }

    [Fact]
    public void A_capture_status_from_a_node_that_sends_no_offset_server_still_reads()
    {
        var status = new CaptureStatus("src", CaptureState.Reading, "src-1", new SourceOffset(new BinlogPosition("f.000001", 4), 0, null) { Server = new SourceServer(7, null, "db1:3306") }, null, 1, 0, 0, null, null);
        var serializer = (ReplicatorSerializer)_system.Serialization.FindSerializerFor(status);
        var bytes = serializer.ToBinary(status);
        var trailing = 1 + 4 + 1 + 1 + "db1:3306".Length;

        var older = (CaptureStatus)serializer.FromBinary(bytes[..^trailing], "CS");
        var newer = (CaptureStatus)serializer.FromBinary(bytes, "CS");

        Assert.Null(older.PersistedOffset!.Server);
        Assert.Equal(status.PersistedOffset! with { Server = null }, older.PersistedOffset);
        Assert.Equal(new SourceServer(7, null, "db1:3306"), newer.PersistedOffset!.Server);
    }

    [Fact]
    public void Every_wire_message_type_is_covered_by_the_round_trip_theory()
    {
        var wireTypes = typeof(IReplicatorWireMessage).Assembly.GetTypes()
            .Where(t => typeof(IReplicatorWireMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .ToHashSet();
        var tested = ((IEnumerable<object[]>)Messages()).Select(row => row[0].GetType()).ToHashSet();
        Assert.Empty(wireTypes.Except(tested).Select(t => t.Name));
    }

    [Fact]
    public void A_change_keeps_every_value_kind_exactly()
    {
        var change = EveryKind();
        var serializer = _system.Serialization.FindSerializerFor(new OffsetCommitted(new SourceOffset(new BinlogPosition("f.1", 4), 0, null)));
        var message = new DeliverChanges("d", 0, "e", 0, [new SequencedChange(1, change)]);
        var copy = (DeliverChanges)_system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, "DC");
        var back = copy.Changes[0].Change;
        Assert.Equal(change.After!.Values, back.After!.Values);
        Assert.Equal(change.Before!.Values, back.Before!.Values);
        Assert.Equal(change.Version, back.Version);
        Assert.Equal(ChangeJson.ToJson(change), ChangeJson.ToJson(back));
    }

    [Fact]
    public void Offsets_are_written_as_the_binlog_case_of_the_versioned_offset_union()
    {
        var offset = new SourceOffset(new BinlogPosition("mariadb-bin.000002", 1234), 7, "0-1-42") { Server = new SourceServer(1, null, "db1:3306") };
        var serializer = (ReplicatorSerializer)_system.Serialization.FindSerializerFor(new OffsetCommitted(offset));
        Assert.Equal("OV", serializer.Manifest(new OffsetCommitted(offset)));
        Assert.Equal("SV", serializer.Manifest(new CaptureSnapshot(offset)));
        var proto = OffsetCommittedProto.Parser.ParseFrom(serializer.ToBinary(new OffsetCommitted(offset)));
        Assert.Equal(CaptureOffsetProto.KindOneofCase.Binlog, proto.Offset.KindCase);
        Assert.Equal(("mariadb-bin.000002", 1234L, 7, "0-1-42", 1u), (proto.Offset.Binlog.File, proto.Offset.Binlog.Position, proto.Offset.Binlog.SkipRows, proto.Offset.Binlog.Gtid, proto.Offset.Binlog.Server.ServerId));
    }

    [Fact]
    public void An_offset_of_a_source_kind_this_release_does_not_know_is_refused_with_a_clear_error()
    {
        // Field 9 of the union: a kind a later release could add (a snapshot's progress, a stream id).
        var offset = Encode(9, [0x0a, 0x02, 0x68, 0x69]);
        var committed = Encode(1, offset);
        var serializer = _system.Serialization.FindSerializerFor(new OffsetCommitted(new SourceOffset(new BinlogPosition("f.1", 4), 0, null)));
        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => _system.Serialization.Deserialize(committed, serializer.Identifier, "OV"));
        Assert.Contains("source kind this release does not know", error.Message);

        static byte[] Encode(int field, byte[] message)
        {
            using var buffer = new MemoryStream();
            var output = new Google.Protobuf.CodedOutputStream(buffer);
            output.WriteTag(field, Google.Protobuf.WireFormat.WireType.LengthDelimited);
            output.WriteBytes(Google.Protobuf.ByteString.CopyFrom(message));
            output.Flush();
            return buffer.ToArray();
        }
    }

    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(123_456_789UL, 4)]
    [InlineData(ulong.MaxValue, int.MaxValue)]
    public void A_change_keeps_its_gtid_version(ulong rank, int row)
    {
        var change = TestChanges.Write(1, 2, 300) with { Version = SourceVersion.OfGtid(rank, row) };
        var serializer = _system.Serialization.FindSerializerFor(new DeliverChanges("d", 0, "e", 0, []));
        var message = new DeliverChanges("d", 0, "e", 0, [new SequencedChange(1, change)]);
        var copy = (DeliverChanges)_system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, "DC");
        Assert.Equal(change.Version, copy.Changes[0].Change.Version);
        Assert.Equal(SourceVersionKind.Gtid, copy.Changes[0].Change.Version.Kind);
    }

    [Fact]
    public void Local_only_messages_are_refused_with_a_clear_error()
    {
        var serializer = new ReplicatorSerializer((ExtendedActorSystem)_system);
        var error = Assert.Throws<ArgumentException>(() => serializer.Manifest("not a wire message"));
        Assert.Contains("not a Replicator wire message", error.Message);
    }

    /// <summary>Wire messages whose counts claim far more items than their bytes can hold (a hostile or corrupt peer).</summary>
    public static TheoryData<string, string, byte[]> AbsurdCounts()
    {
        byte[] Build(Action<BinaryWriter> write)
        {
            using var stream = new MemoryStream();
            using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                write(w);
            }

            return stream.ToArray();
        }

        void DeliveryHead(BinaryWriter w, int changes)
        {
            w.Write("cache");
            w.Write(3);
            w.Write("epoch");
            w.Write(0L);
            w.Write7BitEncodedInt(changes);
        }

        void ChangeHead(BinaryWriter w)
        {
            w.Write(1L);
            w.Write("src");
            w.Write("shop");
            w.Write("t");
            w.Write((byte)ChangeAction.Write);
        }

        return new TheoryData<string, string, byte[]>
        {
            { "changes", "DC", Build(w => DeliveryHead(w, int.MaxValue)) },
            { "key names", "DC", Build(w => { DeliveryHead(w, 1); ChangeHead(w); w.Write7BitEncodedInt(200_000_000); }) },
            { "key values", "DC", Build(w => { DeliveryHead(w, 1); ChangeHead(w); w.Write7BitEncodedInt(1); w.Write("id"); w.Write7BitEncodedInt(200_000_000); }) },
            { "bytes", "DC", Build(w => { DeliveryHead(w, 1); ChangeHead(w); w.Write7BitEncodedInt(1); w.Write("id"); w.Write7BitEncodedInt(1); w.Write((byte)ValueKind.Bytes); w.Write7BitEncodedInt(400_000_000); }) },
            { "json diffs", "DC", Build(w => { DeliveryHead(w, 1); ChangeHead(w); w.Write7BitEncodedInt(1); w.Write("id"); w.Write7BitEncodedInt(1); w.Write((byte)ValueKind.JsonDiff); w.Write7BitEncodedInt(200_000_000); }) },
            { "sequences", "CF", Build(w => { w.Write("cache"); w.Write(3); w.Write("epoch"); w.Write7BitEncodedInt(200_000_000); }) },
            { "dead letters", "DS", Build(w => w.Write7BitEncodedInt(int.MaxValue)) },
            { "negative count", "CF", Build(w => { w.Write("cache"); w.Write(3); w.Write("epoch"); w.Write7BitEncodedInt(-5); }) },
        };
    }

    [Theory]
    [MemberData(nameof(AbsurdCounts))]
    public void A_count_larger_than_the_bytes_left_is_refused_before_anything_is_allocated(string what, string manifest, byte[] payload)
    {
        var serializer = new ReplicatorSerializer((ExtendedActorSystem)_system);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Record.Exception(() => serializer.FromBinary(payload, manifest));

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1_000_000, $"{what}: {allocated:N0} bytes allocated for a {payload.Length}-byte payload");
        var refused = Assert.IsType<System.Runtime.Serialization.SerializationException>(error);
        Assert.Contains(manifest, refused.Message);
    }

    [Fact]
    public void A_truncated_message_is_a_serialization_error_naming_its_manifest()
    {
        var serializer = new ReplicatorSerializer((ExtendedActorSystem)_system);
        var bytes = serializer.ToBinary(new DeliverChanges("cache", 5, "e", 17, [new SequencedChange(17, EveryKind())]));

        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary(bytes[..(bytes.Length / 2)], "DC"));

        Assert.Contains("DC", error.Message);
    }

    private static string Render(object message) => message switch
    {
        DeliverChanges d => $"{d.Definition}|{d.Bucket}|{d.Epoch}|{d.SettledBelow}|" + string.Join(";", d.Changes.Select(c => c.Sequence + ":" + ChangeJson.ToJson(c.Change))),
        ChangesFinished f => $"{f.Definition}|{f.Bucket}|{f.Epoch}|{string.Join(",", f.Sequences)}",
        DeliveriesReleased f => $"{f.Definition}|{f.Bucket}|{f.Epoch}|{string.Join(",", f.Sequences)}",
        DeliveriesHeld f => $"{f.Definition}|{f.Bucket}|{f.Epoch}|{string.Join(",", f.Sequences)}",
        DeadLetterParked p => $"{p.Definition}|{p.Bucket}|{ChangeJson.ToJson(p.Change)}|{p.Error}|{p.Attempts}|{p.FirstFailure:O}|{p.LastFailure:O}",
        DeadLetterStoreSnapshot s => string.Join(";", s.Entries.Select(Render)),
        DeadLetterPage p => $"{p.Total}|{p.Offset}|{p.Next?.ToString() ?? "end"}|" + string.Join(";", p.Entries.Select(Render)),
        DeadLetterStoreState s => s.LastParkSequence + "|" + string.Join(";", s.Entries.Select(e => e.ParkSequence + ":" + Render(e.Letter))),
        CaptureStatus c => c + $" persisted on {c.PersistedOffset?.Server?.ToString() ?? "unknown"}",
        OffsetCommitted c => $"{c.Offset} on {c.Offset.Server?.ToString() ?? "unknown"}",
        CaptureSnapshot c => $"{c.Offset} on {c.Offset.Server?.ToString() ?? "unknown"}",
        _ => message.ToString()!,
    };
}
