using Akka.Actor;
using Replicator.Engine.Capture;
using Replicator.Engine.Configuration;
using Replicator.Engine.Replication;
using Replicator.Engine.Routing;
using Replicator.Engine.Serialization;

namespace Replicator.Engine.Tests.Capture;

public sealed class DeliveryPlannerTests
{
    private static readonly DateTime T0 = new(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);
    private static readonly Address NodeA = new("akka.tcp", "replicator", "127.0.0.1", 4001);
    private static readonly Address NodeB = new("akka.tcp", "replicator", "127.0.0.1", 4002);

    // "writes" takes every write, "all" every change of table t, "other" nothing of table t.
    private readonly IReadOnlyList<CaptureRoute> _routes;

    public DeliveryPlannerTests()
    {
        var settings = ReplicatorSettings.Create(Akka.Configuration.ConfigurationFactory.ParseString("""
            replicator.sources.main { connection-string = "Server=127.0.0.1;User ID=cdc", server-id = 1001 }
            replicator.definitions.writes { topics = ["*_write"], buckets = 8, job.type = log }
            replicator.definitions.all { topics = ["t_*"], buckets = 4, job.type = log }
            replicator.definitions.other { topics = ["other_write"], job.type = log }
            """));
        _routes = settings.Definitions.Select(d => new CaptureRoute(d, new TopicMatcher(d.Topics), ActorRefs.Nobody)).ToList();
    }

    private DeliveryPlanner Planner(int maxChangesPerDelivery = 100, long maxFrameSize = 1 << 20)
    {
        var capture = new CaptureSettings(
            MaxInFlight: 1000,
            MaxChangesPerDelivery: maxChangesPerDelivery,
            OffsetCommitInterval: TimeSpan.FromSeconds(1),
            SnapshotEvery: 100,
            RedeliveryTimeout: TimeSpan.FromSeconds(5),
            ReconnectMinBackoff: TimeSpan.FromSeconds(1),
            ReconnectMaxBackoff: TimeSpan.FromSeconds(30),
            MaxInFlightBytes: 1 << 24,
            MaxFrameSize: maxFrameSize,
            MaxDeliveryBytes: 1 << 19,
            MaxHeldXaChanges: 1000,
            MaxHeldXaBytes: 1 << 20);
        var planner = new DeliveryPlanner(_routes, capture, chaos: null);
        planner.StartEpoch("main-1");
        return planner;
    }

    private static ChangeCaptured Write(long id, int row = 0) => new(1, row, TestChanges.Write(id, id * 10, 100 + id, row));

    private static (string Definition, int Bucket, long[] Sequences)[] Sent(IReadOnlyList<BucketDelivery> deliveries) =>
        deliveries.Select(d => (d.Message.Definition, d.Message.Bucket, d.Message.Changes.Select(c => c.Sequence).ToArray())).OrderBy(d => d.Definition).ToArray();

    [Fact]
    public void A_change_goes_to_its_pk_bucket_of_every_definition_whose_topics_match_under_one_sequence_number_each()
    {
        var planner = Planner();
        var change = Write(7);

        var routing = planner.Route(change, T0);
        var sent = Sent(planner.TakeRouted());

        Assert.Equal(new Routed(2, WireFormat.EstimatedSize(change.Change), false, false), routing);
        Assert.Equal(
            [("all", BucketHash.BucketOf(change.Change.Key.Canonical, 4), [2L]), ("writes", BucketHash.BucketOf(change.Change.Key.Canonical, 8), [1L])],
            sent);
        Assert.All(planner.TakeRouted(), _ => Assert.Fail("routed changes go out once"));
        Assert.Equal(2, planner.Outstanding);
    }

    [Fact]
    public void A_change_no_topic_matches_goes_nowhere_and_its_credits_can_return_at_once()
    {
        var planner = Planner();
        var delete = new ChangeCaptured(1, 0, TestChanges.Delete(1, 1, 100));

        var routing = planner.Route(delete with { Change = delete.Change with { Table = "unrouted" } }, T0);

        Assert.Equal(1, planner.Route(delete, T0).Deliveries); // "all" takes a delete of t
        Assert.Equal(0, routing.Deliveries);
        Assert.False(routing.Oversized);
    }

    [Fact]
    public void A_buckets_changes_go_in_order_in_deliveries_of_at_most_max_changes_per_delivery()
    {
        var planner = Planner(maxChangesPerDelivery: 2);
        for (var row = 0; row < 5; row++)
        {
            planner.Route(new ChangeCaptured(1, row, TestChanges.Update(3, row, row + 1, 100, row)), T0);
        }

        var sent = planner.TakeRouted();

        Assert.Equal([[1L, 2], [3, 4], [5]], sent.Select(d => d.Message.Changes.Select(c => c.Sequence).ToArray()));
        Assert.All(sent, d => Assert.Equal(("all", "main-1", 1L), (d.Message.Definition, d.Message.Epoch, d.Message.SettledBelow)));
    }

    [Fact]
    public void A_change_is_done_when_every_definition_finished_it_and_acknowledgements_of_another_epoch_count_for_nothing()
    {
        var planner = Planner();
        planner.Route(Write(7), T0);
        var sent = planner.TakeRouted().ToDictionary(d => d.Message.Definition, d => d.Message);

        Assert.Empty(planner.Finish(new ChangesFinished("all", sent["all"].Bucket, "main-0", [2]), NodeA));
        var first = Assert.Single(planner.Finish(new ChangesFinished("all", sent["all"].Bucket, "main-1", [2]), NodeA));
        Assert.Equal(1, first.Ticket.Remaining);
        Assert.Empty(planner.Finish(new ChangesFinished("all", sent["all"].Bucket, "main-1", [2]), NodeA));
        var last = Assert.Single(planner.Finish(new ChangesFinished("writes", sent["writes"].Bucket, "main-1", [1]), NodeA));
        Assert.Equal(0, last.Ticket.Remaining);
        Assert.Equal(0, planner.Outstanding);
    }

    [Fact]
    public void A_new_epoch_forgets_what_was_outstanding_and_numbers_from_one_again()
    {
        var planner = Planner();
        planner.Route(Write(7), T0);
        planner.TakeRouted();

        planner.StartEpoch("main-2");
        planner.Route(Write(8), T0);
        var sent = planner.TakeRouted();

        Assert.Equal([1L, 2], sent.SelectMany(d => d.Message.Changes).Select(c => c.Sequence).Order());
        Assert.All(sent, d => Assert.Equal("main-2", d.Message.Epoch));
        Assert.Empty(planner.Finish(new ChangesFinished("all", 0, "main-1", [1, 2]), NodeA));
        Assert.Equal(2, planner.Outstanding);
    }

    [Fact]
    public void A_change_too_large_for_a_delivery_pauses_its_table_once_and_holds_its_later_changes_while_other_tables_go_on()
    {
        var small = Write(1);
        var planner = Planner(maxFrameSize: CaptureSettings.DeliveryOverhead + WireFormat.EstimatedSize(small.Change));
        var large = new ChangeCaptured(1, 1, TestChanges.Update(1, 10, 11, 101, 1));

        var held = planner.Route(large, T0);
        var later = planner.Route(Write(2, row: 2), T0);
        var elsewhere = planner.Route(Write(3, row: 3) with { Change = Write(3).Change with { Table = "u" } }, T0);

        Assert.Equal((0, true, true), (held.Deliveries, held.Oversized, held.PausesTable));
        Assert.Equal((0, true, false), (later.Deliveries, later.Oversized, later.PausesTable));
        Assert.Equal((1, false), (elsewhere.Deliveries, elsewhere.Oversized));
        Assert.Equal(["u"], planner.TakeRouted().SelectMany(d => d.Message.Changes).Select(c => c.Change.Table));
    }

    [Fact]
    public void What_stays_unacknowledged_goes_again_after_the_timeout_and_settled_below_is_the_lowest_still_outstanding()
    {
        var planner = Planner();
        planner.Route(Write(1), T0);
        planner.Route(Write(2, row: 1), T0);
        var sent = planner.TakeRouted();
        var first = sent.SelectMany(d => d.Message.Changes.Select(c => (d.Message, c.Sequence))).Single(x => x.Sequence == 1);
        planner.Finish(new ChangesFinished(first.Message.Definition, first.Message.Bucket, "main-1", [1]), NodeA);

        Assert.Null(planner.Overdue(T0 + TimeSpan.FromSeconds(4.9), TimeSpan.FromSeconds(5)));
        var again = planner.Overdue(T0 + TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

        Assert.NotNull(again);
        Assert.Equal(3, again.Changes);
        Assert.Equal([2L, 3, 4], again.Deliveries.SelectMany(d => d.Message.Changes).Select(c => c.Sequence).Order());
        Assert.All(again.Deliveries, d => Assert.Equal(2L, d.Message.SettledBelow));
    }

    [Fact]
    public void A_handed_off_bucket_gets_everything_outstanding_for_it_and_a_departed_node_everything_its_buckets_held()
    {
        var planner = Planner();
        planner.Route(Write(1), T0);
        var sent = planner.TakeRouted().ToDictionary(d => d.Message.Definition, d => d.Message);
        planner.Held(new DeliveriesHeld("writes", sent["writes"].Bucket, "main-1", []), NodeB, T0);

        var released = planner.Released(new DeliveriesReleased("all", sent["all"].Bucket, "main-1", []), T0);
        var departed = planner.Departed(new HashSet<Address> { NodeB }, T0);

        Assert.Equal([("all", sent["all"].Bucket, [2L])], Sent(released!.Deliveries));
        Assert.Equal([("all", sent["all"].Bucket, [2L]), ("writes", sent["writes"].Bucket, [1L])], Sent(departed!.Deliveries));
        Assert.Null(planner.Released(new DeliveriesReleased("all", sent["all"].Bucket, "main-0", []), T0));
        Assert.Null(planner.Released(new DeliveriesReleased("gone", 0, "main-1", []), T0));
    }
}
