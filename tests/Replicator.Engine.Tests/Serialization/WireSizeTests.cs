using Akka.Actor;
using Replicator.Binlog.Columns;
using Replicator.Engine.Configuration;
using Replicator.Engine.Replication;
using Replicator.Engine.Serialization;
using Replicator.Model;

namespace Replicator.Engine.Tests.Serialization;

/// <summary>
/// Deliveries are cut by <see cref="WireFormat.EstimatedSize(Replicator.Model.RowChange)"/>, so it must never be below what the
/// serializer writes (a delivery over the remoting frame is dropped without a word), and not so far
/// above it that rows which fit are refused.
/// </summary>
public sealed class WireSizeTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("wire-size", ReplicatorSettings.Defaults);

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    public static TheoryData<string> Cases() => ["every kind", "wide", "multibyte", "own names", "gtid"];

    private static RowChange Case(string name)
    {
        switch (name)
        {
            case "every kind":
                return ReplicatorSerializerTests.EveryKind();
            case "wide":
            {
                // 40 columns of 200 characters and a 300 KB TEXT.
                string[] names = ["id", .. Enumerable.Range(1, 40).Select(i => $"c{i}"), "body"];
                ColumnValue[] values = [ColumnValue.FromInt64(7), .. Enumerable.Range(1, 40).Select(i => ColumnValue.FromString(new string((char)('A' + (i % 26)), 200))), ColumnValue.FromString(new string('t', 300_000))];
                return Change(new RowData(names, values), new RowData(names, values));
            }

            case "multibyte":
            {
                // Three- and four-byte UTF-8: 'é' is 2 bytes, '✓' 3, '𝄞' 4 (two UTF-16 chars).
                var text = string.Concat(Enumerable.Repeat("é✓𝄞", 5000));
                var row = new RowData(["id", "s", "j"], [ColumnValue.FromInt64(1), ColumnValue.FromString(text), ColumnValue.FromJson($"{{\"s\":\"{text}\"}}")]);
                return Change(null, row);
            }

            case "own names":
                return Change(
                    new RowData(["id", "a"], [ColumnValue.FromInt64(1), ColumnValue.FromBytes(new byte[70_000])]),
                    new RowData(["id", "a", "b"], [ColumnValue.FromInt64(1), ColumnValue.FromBytes(new byte[10]), ColumnValue.FromGeometry(new byte[5000], 4326)]));
            default:
                return Change(null, new RowData(["id"], [ColumnValue.FromInt64(1)])) with
                {
                    Position = new ChangePosition("mariadb-bin.000042", 123_456_789, string.Join(',', Enumerable.Range(0, 50).Select(d => $"{d}-1-{d * 1000}"))),
                };
        }
    }

    private static RowChange Change(RowData? before, RowData? after) =>
        new("source", "shop", "orders", before is null ? ChangeAction.Write : ChangeAction.Update, new RowKey(["id"], [(after ?? before)!.Values[0]]), before, after,
            new ChangePosition("mariadb-bin.000001", 4, null), new SourceVersion(1, 4, 0), DateTime.UnixEpoch);

    private byte[] Serialize(object message) => _system.Serialization.FindSerializerFor(message).ToBinary(message);

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_change_never_takes_more_bytes_in_a_delivery_than_its_estimate_and_not_much_fewer(string name)
    {
        var change = Case(name);
        var empty = Serialize(new DeliverChanges("cache", 63, "source-0123456789ab", 1000, []));
        var one = Serialize(new DeliverChanges("cache", 63, "source-0123456789ab", 1000, [new SequencedChange(1000, change)]));
        var actual = one.Length - empty.Length;
        var estimate = WireFormat.EstimatedSize(change);
        Assert.InRange(estimate, actual, (actual * 1.05) + 2048);
    }

    [Fact]
    public void A_delivery_of_many_changes_fits_its_summed_estimate_and_the_envelope_reserve()
    {
        var changes = Enumerable.Range(0, 200).Select(i => new SequencedChange(i, Case(i % 2 == 0 ? "every kind" : "multibyte"))).ToList();
        var longNames = new DeliverChanges(new string('d', 200), int.MaxValue, new string('e', 60), long.MaxValue, changes);
        Assert.True(Serialize(longNames).Length <= changes.Sum(c => WireFormat.EstimatedSize(c.Change)) + (CaptureSettings.DeliveryOverhead / 4));
    }
}
