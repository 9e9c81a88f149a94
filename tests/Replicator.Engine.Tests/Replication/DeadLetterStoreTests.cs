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
        var store = Sys.ActorOf(ReplicatorNode.Supervised(DeadLetterStore.Props("cache", region.Ref, DedupeMode.Row), "store"), "dead-letters-cache");

        // A journal failure stops a persistent actor: the bucket gets no confirmation, and once the
        // supervisor has started the store again (it answers a listing) the letter is not there.
        await Journal.OnWrite.Fail();
        var bucket = CreateTestProbe("bucket");
        store.Tell(Letter(1, 100), bucket.Ref);
        await AwaitAssertAsync(
            async () => Assert.Empty((await store.Ask<DeadLetterPage>(ListDeadLetterPage.First, TimeSpan.FromMilliseconds(500))).Entries),
            TimeSpan.FromSeconds(15),
            TimeSpan.FromMilliseconds(100));
        bucket.ExpectNoMsg(TimeSpan.Zero);

        // The bucket's next try is stored.
        await Journal.OnWrite.Pass();
        await AwaitAssertAsync(
            async () => Assert.IsType<DeadLetterAccepted>(await store.Ask<DeadLetterAccepted>(Letter(1, 100), TimeSpan.FromSeconds(1))),
            TimeSpan.FromSeconds(15),
            TimeSpan.FromMilliseconds(200));
        var listed = await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3));
        Assert.Equal("1", Assert.Single(listed.Entries).Change.Key.Canonical);
    }

    [Fact]
    public async Task A_store_of_many_letters_is_listed_in_pages_oldest_parked_first_with_the_total_and_the_next_offset()
    {
        var region = CreateTestProbe("region");
        var store = Sys.ActorOf(DeadLetterStore.Props("cache", region.Ref, DedupeMode.Row));
        for (var id = 1; id <= 250; id++)
        {
            await store.Ask<DeadLetterAccepted>(Letter(id, 100 + id), TimeSpan.FromSeconds(3));
        }

        // Parked again, pk 5 is now the newest letter.
        await store.Ask<DeadLetterAccepted>(Letter(5, 900), TimeSpan.FromSeconds(3));

        var seen = new List<string>();
        int? offset = 0;
        var pages = 0;
        while (offset is { } at)
        {
            var page = await store.Ask<DeadLetterPage>(new ListDeadLetterPage(at, 100), TimeSpan.FromSeconds(3));
            Assert.Equal(250, page.Total);
            Assert.Equal(at, page.Offset);
            Assert.InRange(page.Entries.Count, 1, 100);
            seen.AddRange(page.Entries.Select(e => e.Change.Key.Canonical));
            offset = page.Next;
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 250).Where(i => i != 5).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("5"), seen);

        // The legacy listing of older nodes gets the first page only.
        Assert.Equal(ListDeadLetterPage.DefaultLimit, (await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3))).Entries.Count);
    }

    [Fact]
    public async Task A_letter_with_a_several_megabyte_error_is_stored_cut_listed_recovered_and_retried()
    {
        var region = CreateTestProbe("region");
        var huge = "ERR Error running script: value " + new string('v', 6_000_000);
        var store = Sys.ActorOf(DeadLetterStore.Props("cache", region.Ref, DedupeMode.Row), "huge");
        await store.Ask<DeadLetterAccepted>(Letter(1, 100) with { Error = huge }, TimeSpan.FromSeconds(3));
        Watch(store);
        Sys.Stop(store);
        ExpectTerminated(store);

        store = Sys.ActorOf(DeadLetterStore.Props("cache", region.Ref, DedupeMode.Row), "huge-again");
        var listed = Assert.Single((await store.Ask<DeadLetterPage>(ListDeadLetterPage.First, TimeSpan.FromSeconds(3))).Entries);
        Assert.InRange(listed.Error.Length, 100, DeadLetterBounds.MaxErrorChars);
        Assert.StartsWith("ERR Error running script: value vvv", listed.Error);
        Assert.EndsWith("more characters cut]", listed.Error);

        Assert.Equal(1, (await store.Ask<DeadLettersRetrying>(RetryDeadLetters.Instance, TimeSpan.FromSeconds(3))).Count);
        var retried = region.ExpectMsg<DeliverChanges>();
        Assert.Equal("1", Assert.Single(retried.Changes).Change.Key.Canonical);
        store.Tell(new ChangesFinished("cache", 0, retried.Epoch, [retried.Changes[0].Sequence]));
        await AwaitAssertAsync(async () => Assert.Equal(0, (await store.Ask<DeadLetterPage>(ListDeadLetterPage.First, TimeSpan.FromSeconds(3))).Total));
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

    [Fact]
    public async Task Every_change_mode_keeps_every_parked_change_of_a_pk_and_retries_them_in_source_order()
    {
        var region = CreateTestProbe("region");
        var store = Sys.ActorOf(DeadLetterStore.Props("cache", region.Ref, DedupeMode.EveryChange));
        foreach (var letter in new[] { Letter(1, 300), Letter(1, 100), Letter(1, 200), Letter(2, 150) })
        {
            await store.Ask<DeadLetterAccepted>(letter, TimeSpan.FromSeconds(3));
        }

        // The same change stored twice (its bucket tried again after a lost answer) is kept once.
        await store.Ask<DeadLetterAccepted>(Letter(1, 200), TimeSpan.FromSeconds(3));
        var listed = await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3));
        Assert.Equal(4, listed.Entries.Count);

        Assert.Equal(4, (await store.Ask<DeadLettersRetrying>(RetryDeadLetters.Instance, TimeSpan.FromSeconds(3))).Count);
        var sent = new List<DeliverChanges>();
        for (var i = 0; i < 4; i++)
        {
            sent.Add(region.ExpectMsg<DeliverChanges>());
        }

        var ofPk1 = sent.Where(d => d.Changes[0].Change.Key.Canonical == "1").Select(d => d.Changes[0].Change.Version.Position).ToList();
        Assert.Equal([100L, 200L, 300L], ofPk1);

        // The bucket finished two of them: those two leave the store, the others stay.
        var first = sent.First(d => d.Changes[0].Change.Version.Position == 100);
        var other = sent.First(d => d.Changes[0].Change.Version.Position == 150);
        store.Tell(new ChangesFinished("cache", 0, first.Epoch, [first.Changes[0].Sequence, other.Changes[0].Sequence]));
        await AwaitAssertAsync(async () =>
        {
            var left = await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3));
            Assert.Equal([200L, 300L], left.Entries.Select(e => e.Change.Version.Position).Order());
        });

        Assert.Equal(2, (await store.Ask<DeadLettersPurged>(PurgeDeadLetters.Instance, TimeSpan.FromSeconds(3))).Count);
        Assert.Empty((await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3))).Entries);
    }

    [Fact]
    public async Task A_letter_parked_again_during_its_retry_stays_whatever_the_bucket_clock_says()
    {
        var region = CreateTestProbe("region");
        var store = Sys.ActorOf(DeadLetterStore.Props("cache", region.Ref, DedupeMode.Row));
        await store.Ask<DeadLetterAccepted>(Letter(1, 100), TimeSpan.FromSeconds(3));
        await store.Ask<DeadLettersRetrying>(RetryDeadLetters.Instance, TimeSpan.FromSeconds(3));
        var retried = region.ExpectMsg<DeliverChanges>();

        // The retry fails again in a bucket whose clock is an hour behind the store's: it parks the
        // letter again (with a failure time before the retry started), then finishes the delivery.
        var skewed = Letter(1, 100) with { FirstFailure = DateTime.UtcNow.AddHours(-1), LastFailure = DateTime.UtcNow.AddHours(-1), Error = "failed again" };
        await store.Ask<DeadLetterAccepted>(skewed, TimeSpan.FromSeconds(3));
        store.Tell(new ChangesFinished("cache", 0, retried.Epoch, [retried.Changes[0].Sequence]));

        await Task.Delay(300);
        var listed = await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3));
        Assert.Equal("failed again", Assert.Single(listed.Entries).Error);
    }

    [Fact]
    public async Task A_restarted_store_recovers_its_entries_and_still_clears_a_retried_letter()
    {
        var region = CreateTestProbe("region");
        var store = Sys.ActorOf(DeadLetterStore.Props("cache", region.Ref, DedupeMode.EveryChange), "recovering");
        await store.Ask<DeadLetterAccepted>(Letter(1, 100), TimeSpan.FromSeconds(3));
        await store.Ask<DeadLetterAccepted>(Letter(1, 200), TimeSpan.FromSeconds(3));
        Watch(store);
        Sys.Stop(store);
        ExpectTerminated(store);

        store = Sys.ActorOf(DeadLetterStore.Props("cache", region.Ref, DedupeMode.EveryChange), "recovering-again");
        await store.Ask<DeadLettersRetrying>(RetryDeadLetters.Instance, TimeSpan.FromSeconds(3));
        var first = region.ExpectMsg<DeliverChanges>();
        region.ExpectMsg<DeliverChanges>();
        store.Tell(new ChangesFinished("cache", 0, first.Epoch, [first.Changes[0].Sequence]));
        await AwaitAssertAsync(async () =>
        {
            var left = await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3));
            Assert.Equal(200L, Assert.Single(left.Entries).Change.Version.Position);
        });
    }

    [Fact]
    public async Task A_journal_written_before_park_sequences_is_recovered_as_it_was_then_and_retries_go_on_by_sequence()
    {
        var at = (int day) => new DateTime(2020, 1, day, 0, 0, 0, DateTimeKind.Utc);
        var writer = Sys.ActorOf(Props.Create(() => new LegacyWriter("dead-letters-cache")));
        writer.Tell(new DeadLetterStoreSnapshot([Letter(3, 300) with { LastFailure = at(1) }]));
        ExpectMsg("saved");
        foreach (var legacy in new object[]
                 {
                     Letter(1, 100) with { LastFailure = at(1) },
                     Letter(2, 200) with { LastFailure = at(3) },
                     new DeadLetterCleared("shop", "t", "1", at(2)),
                     new DeadLetterCleared("shop", "t", "2", at(2)),
                 })
        {
            writer.Tell(legacy);
            ExpectMsg("persisted");
        }

        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer);

        // pk 1 failed before its retry began and was cleared; pk 2 failed after it and stays; pk 3 came from the snapshot.
        var region = CreateTestProbe("region");
        var store = Sys.ActorOf(DeadLetterStore.Props("cache", region.Ref, DedupeMode.Row));
        var listed = await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3));
        Assert.Equal(["2", "3"], listed.Entries.Select(e => e.Change.Key.Canonical).Order());

        await store.Ask<DeadLettersRetrying>(RetryDeadLetters.Instance, TimeSpan.FromSeconds(3));
        var sent = new[] { region.ExpectMsg<DeliverChanges>(), region.ExpectMsg<DeliverChanges>() };
        store.Tell(new ChangesFinished("cache", 0, sent[0].Epoch, sent.Select(d => d.Changes[0].Sequence).ToList()));
        await AwaitAssertAsync(async () => Assert.Empty((await store.Ask<DeadLetterStoreSnapshot>(ListDeadLetters.Instance, TimeSpan.FromSeconds(3))).Entries));
    }

    /// <summary>Writes events and a snapshot as a store of the version before park sequences did.</summary>
    private sealed class LegacyWriter : ReceivePersistentActor
    {
        public LegacyWriter(string persistenceId)
        {
            PersistenceId = persistenceId;
            Command<DeadLetterStoreSnapshot>(snapshot =>
            {
                SaveSnapshot(snapshot);
                var replyTo = Sender;
                BecomeStacked(() => Command<SaveSnapshotSuccess>(_ =>
                {
                    replyTo.Tell("saved");
                    UnbecomeStacked();
                }));
            });
            Command<object>(message => Persist(message, _ => Sender.Tell("persisted")));
        }

        public override string PersistenceId { get; }
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
