using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Replicator.Binlog.Columns;
using Replicator.Engine.Configuration;
using Replicator.Engine.Jobs;
using Replicator.Engine.Replication;
using Replicator.Jobs;

namespace Replicator.Engine.Tests.Replication;

/// <summary>A bucket with a fake job and a probe for the dead-letter store; the test actor is the capture.</summary>
public sealed class ReplicatorEntityTests : TestKit
{
    private const string Epoch = "src-0123456789ab";

    private static DefinitionSettings Definition(DedupeMode mode = DedupeMode.Row, int maxAttempts = 1, TimeSpan? applyTimeout = null) => new(
        "cache",
        "src",
        ["*"],
        1,
        mode,
        50,
        applyTimeout ?? TimeSpan.FromSeconds(5),
        new RetryPolicy(TimeSpan.FromMilliseconds(50), 2, TimeSpan.FromMilliseconds(200), maxAttempts, 0),
        new JobSettings("fake", ConfigurationFactory.Empty, "replicator.definitions.cache.job"));

    private static DeliverChanges Deliver(params (long Sequence, Replicator.Model.RowChange Change)[] changes) =>
        new("cache", 0, Epoch, 0, changes.Select(c => new SequencedChange(c.Sequence, c.Change)).ToList());

    [Fact]
    public void A_parked_change_is_acknowledged_only_once_the_store_confirmed_it_and_a_failed_store_write_is_tried_again()
    {
        var store = CreateTestProbe("store");
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(applyTimeout: TimeSpan.FromSeconds(1)), 0, new FailingJob(), store.Ref));
        var delivery = Deliver((1, TestChanges.Write(1, 1, 100)));

        bucket.Tell(delivery);
        var parked = store.ExpectMsg<DeadLetterParked>();
        Assert.Equal("1", parked.Change.Key.Canonical);

        // The store has not answered: a redelivery is held, not acknowledged as finished.
        bucket.Tell(delivery);
        var held = ExpectMsg<DeliveriesHeld>();
        Assert.Equal([1L], held.Sequences);

        // No answer within apply-timeout: the write is tried again, and still nothing is acknowledged.
        // (The store answers this second write well within its 1 s wait, even on a loaded machine:
        // with 300 ms, a late answer went to an Ask that had already given up.)
        store.ExpectMsg<DeadLetterParked>(TimeSpan.FromSeconds(5));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        store.Reply(DeadLetterAccepted.Instance);

        var finished = ExpectMsg<ChangesFinished>();
        Assert.Equal([1L], finished.Sequences);
        bucket.Tell(delivery);
        Assert.Equal([1L], ExpectMsg<ChangesFinished>().Sequences);
    }

    [Fact]
    public void A_retried_dead_letter_is_written_as_its_row_is_now_at_the_source_and_as_a_delete_when_the_row_is_gone()
    {
        var job = new RecordingJob();
        var rows = new FakeCurrentRows { ["2"] = TestChanges.Row(2, 22) };
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(), 0, job, CreateTestProbe().Ref, rows));

        // Letters of pks 1 (deleted since) and 2 (changed since), and a change of the stream (pk 3).
        bucket.Tell(new DeliverChanges("cache", 0, DeadLetterStore.RetryEpochPrefix + "0123456789ab", 0, [new SequencedChange(1, TestChanges.Write(1, 1, 100)), new SequencedChange(2, TestChanges.Update(2, 1, 2, 110))]));
        ExpectMsg<ChangesFinished>();
        bucket.Tell(Deliver((3, TestChanges.Write(3, 3, 120))));
        ExpectMsg<ChangesFinished>();

        var applied = job.Applied.ToDictionary(i => i.Key.Canonical, i => i.Change);
        Assert.Equal(Replicator.Model.ChangeAction.Delete, applied["1"].Action);
        Assert.Equal(100, applied["1"].Version.Position);
        Assert.Equal(22, applied["2"].After!["v"].AsInt64());
        Assert.Equal(110, applied["2"].Version.Position);
        Assert.Equal(3, applied["3"].After!["v"].AsInt64());
        Assert.Equal(["1", "2"], rows.Asked.Order());
    }

    [Fact]
    public void A_partial_insert_whose_row_is_not_visible_at_the_source_is_never_written_as_a_delete_and_is_parked_when_it_never_shows()
    {
        var job = new RecordingJob();
        var store = CreateTestProbe("store");
        var rows = new FakeCurrentRows();  // the insert's commit never becomes visible
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(maxAttempts: 2), 0, job, store.Ref, rows));
        bucket.Tell(Deliver((1, PartialInsert(5))));

        var parked = store.ExpectMsg<DeadLetterParked>(TimeSpan.FromSeconds(10));
        Assert.Equal(Replicator.Model.ChangeAction.Write, parked.Change.Action);
        Assert.Contains("not visible yet", parked.Error);
        store.Reply(DeadLetterAccepted.Instance);
        Assert.Equal([1L], ExpectMsg<ChangesFinished>().Sequences);
        Assert.Empty(job.Applied);

        // Each attempt read the row again after short waits before it failed.
        Assert.True(rows.Asked.Count >= 4, $"the row was read {rows.Asked.Count} times");
    }

    [Fact]
    public void A_partial_insert_read_before_its_commit_is_visible_is_read_again_and_written_with_its_own_columns_over_the_row()
    {
        var job = new RecordingJob();
        var names = new[] { "id", "v", "w" };

        // Visible from the fourth read on (after the first attempt's reads), then already updated by a later change (v = 9).
        var rows = new FakeCurrentRows { VisibleFromRead = 4, ["5"] = new(names, [ColumnValue.FromInt64(5), ColumnValue.FromInt64(9), ColumnValue.FromInt64(7)]) };
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(maxAttempts: 3), 0, job, CreateTestProbe().Ref, rows));
        var insert = PartialInsert(5) with { After = new Replicator.Model.RowData(names, [ColumnValue.FromInt64(5), ColumnValue.FromInt64(1), ColumnValue.Absent]) };
        bucket.Tell(Deliver((1, insert)));

        Assert.Equal([1L], ExpectMsg<ChangesFinished>(TimeSpan.FromSeconds(10)).Sequences);
        var written = Assert.Single(job.Applied).Change;
        Assert.Equal(Replicator.Model.ChangeAction.Write, written.Action);
        Assert.Equal(100, written.Version.Position);
        Assert.Equal(1, written.After!["v"].AsInt64());   // the insert's own value at the insert's version
        Assert.Equal(7, written.After!["w"].AsInt64());   // the defaulted column, read from the source
    }

    [Fact]
    public void A_retried_dead_letter_covered_by_a_waiting_newer_change_has_that_change_written_as_its_row_is_now()
    {
        var job = new GatedJob();
        var store = CreateTestProbe("store");
        var rows = new FakeCurrentRows { ["1"] = TestChanges.Row(1, 42) };
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(), 0, job, CreateTestProbe().Ref, rows));

        // pk 1: one change in flight (held at the gate), a newer one waiting, then the retry of an old letter.
        bucket.Tell(Deliver((1, TestChanges.Update(1, 1, 2, 200))));
        job.Entered.Wait(TimeSpan.FromSeconds(5));
        bucket.Tell(Deliver((2, TestChanges.Update(1, 2, 3, 300) with { After = new Replicator.Model.RowData(TestChanges.Names, [ColumnValue.FromInt64(1), ColumnValue.Absent]) })));
        bucket.Tell(new DeliverChanges("cache", 0, DeadLetterStore.RetryEpochPrefix + "0123456789ab", 0, [new SequencedChange(7, TestChanges.Write(1, 1, 100))]), store.Ref);
        job.Gate.Release(10);

        Assert.Equal([7L], store.ExpectMsg<ChangesFinished>(TimeSpan.FromSeconds(5)).Sequences);
        var written = job.Applied.Select(i => i.Change).ToList();
        Assert.Equal(2, written.Count);
        Assert.Equal(300, written[1].Version.Position);
        Assert.Equal(42, written[1].After!["v"].AsInt64());   // the row as it is now, not the letter's old image (v = 1)
        Assert.Equal(["1"], rows.Asked);
    }

    /// <summary>An insert logged with binlog_row_image = MINIMAL: the column v it left to its default is absent.</summary>
    private static Replicator.Model.RowChange PartialInsert(long id) =>
        TestChanges.Write(id, 1, 100) with { After = new Replicator.Model.RowData(TestChanges.Names, [ColumnValue.FromInt64(id), ColumnValue.Absent]) };

    [Fact]
    public void A_bucket_remembers_the_state_of_a_senders_current_epoch_only_and_forgets_a_sender_that_is_gone()
    {
        var counters = ReplicationMetrics.Get(Sys).Definition("cache");
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(), 0, new RecordingJob(), CreateTestProbe().Ref));

        // Fifty incarnations of one capture (a reader restarted fifty times), each delivering a change.
        for (var epoch = 0; epoch < 50; epoch++)
        {
            bucket.Tell(new DeliverChanges("cache", 0, $"src-{epoch:D12}", 0, [new SequencedChange(1, TestChanges.Write(epoch, 1, 100 + epoch))]));
            ExpectMsg<ChangesFinished>();
        }

        AwaitAssert(() => Assert.Equal(1, counters.Epochs));

        // A second sender (the dead-letter store retrying), which then stops: its epoch is forgotten too.
        var store = CreateTestProbe("store");
        bucket.Tell(new DeliverChanges("cache", 0, DeadLetterStore.RetryEpochPrefix + "0123456789ab", 0, [new SequencedChange(1, TestChanges.Write(99, 1, 999))]), store.Ref);
        store.ExpectMsg<ChangesFinished>();
        AwaitAssert(() => Assert.Equal(2, counters.Epochs));
        Sys.Stop(store.Ref);
        AwaitAssert(() => Assert.Equal(1, counters.Epochs));
        Assert.Equal(0, counters.Pending);

        // The current epoch still answers a redelivery as finished.
        bucket.Tell(new DeliverChanges("cache", 0, "src-000000000049", 0, [new SequencedChange(1, TestChanges.Write(49, 1, 149))]));
        Assert.Equal([1L], ExpectMsg<ChangesFinished>().Sequences);
    }

    [Fact]
    public void A_job_that_throws_on_one_poison_row_dead_letters_that_row_alone_and_applies_the_others()
    {
        var store = CreateTestProbe("store");
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(maxAttempts: 2), 0, new ThrowsOn("13"), store.Ref));
        bucket.Tell(Deliver((1, TestChanges.Write(1, 1, 100)), (2, TestChanges.Write(2, 1, 110)), (3, TestChanges.Write(13, 1, 120))));

        // The batch fails as a whole; its pks are tried one by one, so 13 spends its own attempts.
        var finished = new List<long>();
        while (finished.Count < 2)
        {
            finished.AddRange(ExpectMsg<ChangesFinished>(TimeSpan.FromSeconds(5)).Sequences);
        }

        Assert.Equal([1L, 2L], finished.Order());
        var parked = store.ExpectMsg<DeadLetterParked>(TimeSpan.FromSeconds(5));
        Assert.Equal("13", parked.Change.Key.Canonical);
        Assert.Equal(2, parked.Attempts);
        Assert.Contains("cannot encode this row", parked.Error);
        store.Reply(DeadLetterAccepted.Instance);
        Assert.Equal([3L], ExpectMsg<ChangesFinished>().Sequences);
        Assert.False(ReplicationMetrics.Get(Sys).Definition("cache").Sink.IsDown);
    }

    [Fact]
    public void One_row_that_runs_past_apply_timeout_is_dead_lettered_alone_and_never_taken_for_a_sink_outage()
    {
        var store = CreateTestProbe("store");
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(maxAttempts: 2, applyTimeout: TimeSpan.FromMilliseconds(300)), 0, new HangsOn("13"), store.Ref));
        bucket.Tell(Deliver((1, TestChanges.Write(1, 1, 100)), (2, TestChanges.Write(13, 1, 110)), (3, TestChanges.Write(3, 1, 120)), (4, TestChanges.Write(4, 1, 130))));

        var parked = store.ExpectMsg<DeadLetterParked>(TimeSpan.FromSeconds(10));
        Assert.Equal("13", parked.Change.Key.Canonical);
        Assert.Equal("the job did not finish within apply-timeout", parked.Error);
        store.Reply(DeadLetterAccepted.Instance);
        var finished = new List<long>();
        while (finished.Count < 4)
        {
            finished.AddRange(ExpectMsg<ChangesFinished>(TimeSpan.FromSeconds(5)).Sequences);
        }

        Assert.Equal([1L, 2L, 3L, 4L], finished.Order());
        Assert.Equal(0, ReplicationMetrics.Get(Sys).Definition("cache").Sink.Outages);
    }

    [Fact]
    public void A_job_that_cannot_reach_its_sink_at_all_makes_an_outage_and_parks_nothing()
    {
        var store = CreateTestProbe("store");
        var bucket = Sys.ActorOf(ReplicatorEntity.Props(Definition(maxAttempts: 2), 0, new Unreachable(), store.Ref));
        bucket.Tell(Deliver(Enumerable.Range(1, 6).Select(i => ((long)i, TestChanges.Write(i, 1, 100 + i))).ToArray()));

        var sink = ReplicationMetrics.Get(Sys).Definition("cache").Sink;
        AwaitCondition(() => sink.IsDown, TimeSpan.FromSeconds(10));
        Assert.Contains("SocketException", sink.Error);

        // Backoffs of 50-200 ms with 2 attempts would have parked every pk well within this.
        store.ExpectNoMsg(TimeSpan.FromSeconds(2));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.True(sink.IsDown);
    }

    private sealed class RecordingJob : IReplicationJob
    {
        public System.Collections.Concurrent.ConcurrentQueue<JobItem> Applied { get; } = new();

        public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
        {
            foreach (var item in batch)
            {
                Applied.Enqueue(item);
            }

            return Task.FromResult<IReadOnlyList<ApplyResult>>(batch.Select(_ => ApplyResult.Applied).ToList());
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class FakeCurrentRows : Dictionary<string, Replicator.Model.RowData>, ICurrentRows
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Asked { get; } = new();

        /// <summary>The reads before this one (counted from 1) find nothing: the rows' commits are not visible yet.</summary>
        public int VisibleFromRead { get; init; } = 1;

        public Task<IReadOnlyDictionary<string, Replicator.Model.RowData>> ReadAsync(string schema, string table, IReadOnlyList<Replicator.Model.RowKey> keys, IReadOnlyList<string>? currentColumns, CancellationToken cancellationToken)
        {
            foreach (var key in keys)
            {
                Asked.Add(key.Canonical);
            }

            if (Asked.Count < VisibleFromRead)
            {
                return Task.FromResult<IReadOnlyDictionary<string, Replicator.Model.RowData>>(new Dictionary<string, Replicator.Model.RowData>());
            }

            return Task.FromResult<IReadOnlyDictionary<string, Replicator.Model.RowData>>(keys.Where(k => ContainsKey(k.Canonical)).ToDictionary(k => k.Canonical, k => this[k.Canonical]));
        }
    }

    /// <summary>A job that records what it writes and waits at a gate before each batch.</summary>
    private sealed class GatedJob : IReplicationJob
    {
        public SemaphoreSlim Gate { get; } = new(0);

        public ManualResetEventSlim Entered { get; } = new();

        public System.Collections.Concurrent.ConcurrentQueue<JobItem> Applied { get; } = new();

        public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
        {
            Entered.Set();
            await Gate.WaitAsync(cancellationToken);
            foreach (var item in batch)
            {
                Applied.Enqueue(item);
            }

            return batch.Select(_ => ApplyResult.Applied).ToList();
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A job that throws whenever its batch holds the poison pk (a row it cannot encode).</summary>
    private sealed class ThrowsOn(string poison) : IReplicationJob
    {
        public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken) =>
            batch.Any(i => i.Key.Canonical == poison)
                ? throw new FormatException("cannot encode this row")
                : Task.FromResult<IReadOnlyList<ApplyResult>>(batch.Select(_ => ApplyResult.Applied).ToList());

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A job that never finishes a batch that holds the slow pk.</summary>
    private sealed class HangsOn(string slow) : IReplicationJob
    {
        public async Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken)
        {
            if (batch.Any(i => i.Key.Canonical == slow))
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return batch.Select(_ => ApplyResult.Applied).ToList();
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A job whose every call fails to connect.</summary>
    private sealed class Unreachable : IReplicationJob
    {
        public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken) =>
            throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A job whose every item fails.</summary>
    private sealed class FailingJob : IReplicationJob
    {
        public Task<IReadOnlyList<ApplyResult>> ApplyAsync(IReadOnlyList<JobItem> batch, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ApplyResult>>(batch.Select(_ => ApplyResult.Failed("the sink refuses this row")).ToList());

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
