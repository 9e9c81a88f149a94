using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using Akka.TestKit.Xunit2;
using Replicator.Engine.Capture;
using Replicator.Engine.Configuration;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Tests.Replication;

/// <summary>The dead-letter store on a journal the test can make fail; the test actor is a bucket, a probe is the shard region.</summary>
public sealed class DeadLetterStoreTests : TestKit
{
    private static readonly Config TestJournalConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.test"
            auto-start-journals = ["akka.persistence.journal.test"]
            test {
              class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
              plugin-dispatcher = "akka.actor.default-dispatcher"
            }
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.test"
            auto-start-snapshot-stores = ["akka.persistence.snapshot-store.test"]
            test {
              class = "Akka.Persistence.TestKit.TestSnapshotStore, Akka.Persistence.TestKit"
              plugin-dispatcher = "akka.actor.default-dispatcher"
            }
          }
        }
        """).WithFallback(ReplicatorSettings.Defaults);

    public DeadLetterStoreTests()
        : base(TestJournalConfig)
    {
    }

    private ITestJournal Journal => TestJournal.FromRef(Persistence.Instance.Apply(Sys).JournalFor(null));

    private static DeadLetterParked Letter(long id, long position) =>
        new("cache", 0, TestChanges.Write(id, 1, position), "the sink refuses this row", 3, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 1, 0, 1, 0, DateTimeKind.Utc));

    [Fact]
    public async Task A_store_whose_journal_write_failed_is_started_again_and_stores_the_next_try()
    {
        var region = CreateTestProbe("region");
        var store = Sys.ActorOf(ReplicatorNode.Supervised(DeadLetterStore.Props("cache", region.Ref), "store"), "dead-letters-cache");

        // A journal failure stops a persistent actor.
        await Journal.OnWrite.Fail();
        store.Tell(Letter(1, 100));
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));

        // The supervisor starts it again; the bucket's next try is stored.
        await Journal.OnWrite.Pass();
        await AwaitAssertAsync(
            async () => Assert.IsType<DeadLetterAccepted>(await store.Ask<DeadLetterAccepted>(Letter(1, 100), TimeSpan.FromSeconds(1))),
            TimeSpan.FromSeconds(15),
            TimeSpan.FromMilliseconds(200));
        var listed = await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3));
        Assert.Equal("1", Assert.Single(listed.Entries).Change.Key.Canonical);
    }

    [Fact]
    public void A_supervised_capture_that_stops_on_its_own_is_started_again_but_one_told_to_stop_for_a_hand_over_stays_stopped()
    {
        var starts = CreateTestProbe("starts");
        var supervisor = Sys.ActorOf(ReplicatorNode.Supervised(Props.Create(() => new FakeCapture(starts.Ref)), "capture", finalStop: m => m is StopCapture), "capture-src");
        Watch(supervisor);
        var first = starts.ExpectMsg<IActorRef>();

        // Stopping on its own (as after a journal failure): started again.
        first.Tell("stop yourself");
        var second = starts.ExpectMsg<IActorRef>(TimeSpan.FromSeconds(5));
        Assert.NotEqual(first, second);

        // The singleton's hand-over message: the capture stops and so does the supervisor.
        supervisor.Tell(StopCapture.Instance);
        ExpectTerminated(supervisor, TimeSpan.FromSeconds(5));
        starts.ExpectNoMsg(TimeSpan.FromSeconds(2));
    }

    /// <summary>Says when it starts; stops on StopCapture (as the capture does once it persisted its offset) or when told to.</summary>
    private sealed class FakeCapture : ReceiveActor
    {
        public FakeCapture(IActorRef starts)
        {
            starts.Tell(Self);
            Receive<StopCapture>(_ => Context.Stop(Self));
            Receive<string>(_ => Context.Stop(Self));
        }
    }
}
