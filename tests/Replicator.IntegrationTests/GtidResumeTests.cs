using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Configuration;
using Replicator.Engine.Offsets;
using Replicator.IntegrationTests.Infrastructure;
using Replicator.Model;

namespace Replicator.IntegrationTests;

/// <summary>
/// Resume by MariaDB GTID against the live server: stop after every change, take the offset a
/// capture would persist (GTID position before the open transaction, its restart point and rows
/// already handled), start a new dump after that GTID position with <c>resume-by = gtid</c>, and
/// check that nothing is lost or repeated.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GtidResumeTests
{
    [Fact]
    public async Task A_capture_resumed_after_its_saved_gtid_position_loses_and_repeats_nothing()
    {
        var s = Servers.UniqueSchema("cap_gtid");
        var start = MariaDbGtidPosition.Parse(await Servers.ScalarAsync<string>("SELECT @@gtid_binlog_pos"));
        await Servers.ExecuteAsync($"""
            CREATE DATABASE {s};
            CREATE TABLE {s}.t (id INT PRIMARY KEY, v INT);
            INSERT INTO {s}.t VALUES (1, 1), (2, 2), (3, 3);
            BEGIN; INSERT INTO {s}.t VALUES (4, 4), (5, 5); UPDATE {s}.t SET v = v * 10 WHERE id <= 2; DELETE FROM {s}.t WHERE id = 3; COMMIT;
            UPDATE {s}.t SET id = 100 WHERE id = 4;
            INSERT INTO {s}.t VALUES (6, 6), (7, 7);
            """);
        try
        {
            var source = SourceSettingsFor(resumeBy: "gtid");
            var filter = new TableFilter([$"{s}.*"]);
            var all = await ReadAsync(StartPosition.After(start), null, start, filter, int.MaxValue);
            Assert.Equal(12, all.Changes.Count);

            var midTransaction = 0;
            for (var stop = 1; stop < all.Changes.Count; stop++)
            {
                var first = await ReadAsync(StartPosition.After(start), null, start, filter, stop);
                var offset = first.Offset!;
                Assert.NotNull(offset.Gtid);
                var resumeAt = source.ResumeFrom(offset);
                Assert.IsType<StartPosition.AfterMariaDbGtids>(resumeAt);
                midTransaction += offset.SkipRows > 0 ? 1 : 0;

                var rest = await ReadAsync(resumeAt, new ResumePoint(offset.Position, offset.SkipRows), MariaDbGtidPosition.Parse(offset.Gtid), filter, int.MaxValue);
                var union = first.Changes.Concat(rest.Changes).ToList();
                Assert.True(all.Changes.SequenceEqual(union), $"stop after change {stop}, resumed after {offset}: {all.Changes.Count} expected, {union.Count} read:\n{string.Join("\n", union)}");
            }

            Assert.True(midTransaction >= 4, $"only {midTransaction} stops fell inside a transaction");
        }
        finally
        {
            await Servers.ExecuteAsync($"DROP DATABASE {s}");
        }
    }

    private static SourceSettings SourceSettingsFor(string resumeBy)
    {
        var settings = ReplicatorSettings.Create(HoconLoader.LoadString($$"""
            replicator.sources.it {
              connection-string = {{System.Text.Json.JsonSerializer.Serialize(Servers.MariaDbCdc)}}
              server-id = 3999
              resume-by = {{resumeBy}}
            }
            """));
        return Assert.Single(settings.Sources);
    }

    private sealed record ReadResult(List<string> Changes, SourceOffset? Offset);

    /// <summary>Dumps from <paramref name="start"/> to the current end, acknowledging every change; stops after <paramref name="stopAfterChanges"/> changes (at the end of that event).</summary>
    private static async Task<ReadResult> ReadAsync(StartPosition start, ResumePoint? resume, MariaDbGtidPosition gtids, TableFilter filter, int stopAfterChanges)
    {
        var options = BinlogClientOptions.FromConnectionString(Servers.MariaDbCdc) with
        {
            ServerId = uint.Parse(ReplicaServerIds.Next(), System.Globalization.CultureInfo.InvariantCulture),
            Start = start,
            Blocking = false,
        };
        var extractor = new ChangeExtractor("it", filter, resume: resume, gtids: gtids);
        var tracker = new CommitTracker(resume is null ? null : new SourceOffset(resume.Position, resume.SkipRows, gtids.ToString()));
        var changes = new List<string>();
        var items = new List<CaptureItem>();
        await using var client = new BinlogClient(options);
        await foreach (var binlogEvent in client.ReadEventsAsync())
        {
            items.Clear();
            extractor.Process(binlogEvent, items);
            foreach (var item in items)
            {
                switch (item)
                {
                    case TransactionBegan began:
                        tracker.Began(began);
                        break;
                    case ChangeCaptured captured:
                        changes.Add(ChangeJson.ToJson(captured.Change));
                        tracker.Emitted(captured.TransactionId, captured.RowOrdinal);
                        tracker.Completed(captured.TransactionId, captured.RowOrdinal);
                        break;
                    case RowsCounted counted:
                        tracker.RowsSeen(counted.TransactionId, counted.RowsSeen);
                        break;
                    case TransactionEnded ended:
                        tracker.Ended(ended);
                        break;
                    case Positioned positioned:
                        tracker.Positioned(positioned);
                        break;
                }
            }

            if (changes.Count >= stopAfterChanges)
            {
                break;
            }
        }

        return new ReadResult(changes, tracker.Offset);
    }
}
