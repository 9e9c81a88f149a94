using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Offsets;
using Replicator.Model;

namespace Replicator.Engine.Tests.Capture;

/// <summary>
/// Stops reading a recorded binlog stream after every k-th event, works out the resume point the
/// way the capture does (a <see cref="CommitTracker"/> that saw every emitted change acknowledged),
/// restarts a fresh <see cref="ChangeExtractor"/> there, and checks that the changes before the stop
/// and after the restart are exactly those of one uninterrupted read: none lost, none repeated.
/// </summary>
public sealed class ResumeTests
{
    private static readonly string FixtureRoot = FindFixtureRoot();

    /// <summary>Recorded streams: one or more binlog files read in order.</summary>
    public static TheoryData<string> Streams() => new()
    {
        // Generated MariaDB 10.11: multi-row transactions, a DDL, pk-changing updates, a ROTATE between two files.
        "binlog-streams/mariadb1011-rotate",
        // MariaDB compressed rows events and QUERY_COMPRESSED.
        "binlog/mariadb1011-compressed",
        // MySQL 8.0 with anonymous GTIDs, DDL and multi-row transactions.
        "binlog/mysql80-decimal-date-nulls",
        // MySQL 8.0 partial JSON updates, six rows in one event.
        "binlog/mysql80-json-partial-update",
        // MySQL 8.0 TRANSACTION_PAYLOAD: a whole transaction inside one event.
        "binlog/mysql80-txn-compression-update",
        // MariaDB 10.11 XA: two prepares with other transactions before their outcome, a commit, a rollback, a one-phase commit.
        "binlog-streams/mariadb1011-xa",
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public async Task A_stop_after_any_event_resumes_without_losing_or_repeating_a_change(string stream)
    {
        var files = Directory.GetFiles(Path.Combine(FixtureRoot, stream)).Where(f => Path.GetFileName(f) != "expected.json").Order(StringComparer.Ordinal).ToList();
        var all = await ReadAsync(files, resume: null, stopAfter: int.MaxValue);
        Assert.NotEmpty(all.Changes);
        var events = all.Events;

        var midTransaction = 0;
        for (var k = 1; k <= events; k++)
        {
            var first = await ReadAsync(files, resume: null, stopAfter: k);
            var offset = first.Offset;
            List<string> rest;
            if (offset is null)
            {
                // Nothing told the tracker where it is yet: the capture starts over from its configured start.
                rest = (await ReadAsync(files, resume: null, stopAfter: int.MaxValue)).Changes;
            }
            else
            {
                if (offset.SkipRows > 0)
                {
                    midTransaction++;
                }

                rest = (await ReadAsync(files, new ResumePoint(offset.Position, offset.SkipRows), int.MaxValue, offset.Gtid)).Changes;
            }

            var union = first.Changes.Concat(rest).ToList();
            if (first.PendingPrepares > 0)
            {
                // The offset stays at the oldest pending XA PREPARE, so what came after it is read
                // again (at least once; sinks fence it by version). Nothing may be lost or new.
                Assert.True(all.Changes.SequenceEqual(union.Distinct()), $"{stream}: stop after event {k} with a pending XA, resume at {offset}: {Describe(all.Changes, union.Distinct().ToList())}");
                continue;
            }

            Assert.True(all.Changes.SequenceEqual(union), $"{stream}: stop after event {k}, resume at {offset?.ToString() ?? "the start"}: {Describe(all.Changes, union)}");
        }

        if (stream.Contains("rotate", StringComparison.Ordinal))
        {
            Assert.True(midTransaction > 5, $"only {midTransaction} stops fell inside a transaction after a handled row");
        }
    }

    /// <summary>The recordings with MySQL compressed transactions (TRANSACTION_PAYLOAD).</summary>
    public static TheoryData<string> CompressedStreams() => new()
    {
        "binlog/mysql80-txn-compression-update",
        "binlog/mysql80-txn-compression-insert",
    };

    /// <summary>
    /// Read as the capture reads them, a compressed transaction's inner events come one by one
    /// (<see cref="BinlogDecoderOptions.StreamTransactionPayloads"/>): the changes, their versions
    /// and row ordinals are those of the whole-payload read, and a stop between two inner events
    /// resumes inside the transaction without losing or repeating a change.
    /// </summary>
    [Theory]
    [MemberData(nameof(CompressedStreams))]
    public async Task A_stop_between_the_inner_events_of_a_compressed_transaction_resumes_without_losing_or_repeating_a_change(string stream)
    {
        var files = Directory.GetFiles(Path.Combine(FixtureRoot, stream)).Where(f => Path.GetFileName(f) != "expected.json").Order(StringComparer.Ordinal).ToList();
        var whole = await ReadAsync(files, resume: null, stopAfter: int.MaxValue);
        var all = await ReadAsync(files, resume: null, stopAfter: int.MaxValue, streamPayloads: true);
        Assert.NotEmpty(all.Changes);
        Assert.Equal(whole.Changes, all.Changes);
        Assert.Equal(whole.Ordinals, all.Ordinals);
        Assert.True(all.Events > whole.Events, $"{all.Events} streamed events, {whole.Events} whole");

        var insidePayload = 0;
        for (var k = 1; k <= all.Events; k++)
        {
            var first = await ReadAsync(files, resume: null, stopAfter: k, streamPayloads: true);
            var offset = first.Offset;
            List<string> rest;
            if (offset is null)
            {
                rest = all.Changes;
            }
            else
            {
                if (offset.SkipRows > 0)
                {
                    insidePayload++;
                }

                rest = (await ReadAsync(files, new ResumePoint(offset.Position, offset.SkipRows), int.MaxValue, offset.Gtid, streamPayloads: true)).Changes;
            }

            var union = first.Changes.Concat(rest).ToList();
            Assert.True(all.Changes.SequenceEqual(union), $"{stream}: stop after event {k}, resume at {offset?.ToString() ?? "the start"}: {Describe(all.Changes, union)}");
        }

        Assert.True(insidePayload > 0, "no stop fell inside a compressed transaction after a handled row");
    }

    [Fact]
    public async Task The_xa_stream_yields_committed_xa_rows_at_their_commit_and_never_those_rolled_back()
    {
        var files = Directory.GetFiles(Path.Combine(FixtureRoot, "binlog-streams/mariadb1011-xa")).Order(StringComparer.Ordinal).ToList();
        var all = await ReadAsync(files, null, int.MaxValue);
        Assert.Equal(all.Changes.Count, all.Changes.Distinct().Count());
        var pks = all.Changes.Select(c => System.Text.Json.JsonDocument.Parse(c).RootElement).Select(e => $"{e.GetProperty("table").GetString()}:{e.GetProperty("action").GetString()}:{e.GetProperty("pk").GetProperty("id").GetInt32()}").ToList();
        // XA 'a' (10, 11, update of 1) goes out at its commit, after the transaction that followed its prepare; XA 'b' (20, delete of 2) is rolled back.
        Assert.Equal(
            ["items:write:1", "items:write:2", "other:write:1", "items:write:3", "other:update:1", "items:write:10", "items:write:11", "items:update:1", "items:write:4", "items:write:30", "items:write:31", "items:write:5"],
            pks);
        Assert.Equal(0, all.PendingPrepares);
    }

    [Fact]
    public async Task The_rotate_stream_has_what_the_resume_test_needs()
    {
        var files = Directory.GetFiles(Path.Combine(FixtureRoot, "binlog-streams/mariadb1011-rotate")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, files.Count);
        var events = new List<BinlogEvent>();
        foreach (var file in files)
        {
            await foreach (var e in BinlogFileReader.ReadAsync(file))
            {
                events.Add(e);
            }
        }

        Assert.Contains(events, e => e is RotateEvent { NextFile: "binlog.000002" });
        Assert.Contains(events, e => e is QueryEvent q && q.Sql.StartsWith("ALTER TABLE", StringComparison.Ordinal));
        Assert.Contains(events, e => e is RowsEvent { Rows.Count: >= 2 });
        var all = await ReadAsync(files, null, int.MaxValue);
        Assert.Contains(all.Changes, c => c.Contains("\"action\":\"delete\"", StringComparison.Ordinal) && c.Contains("\"pk\":{\"id\":4}", StringComparison.Ordinal));
        Assert.Contains(all.Changes, c => c.Contains("\"action\":\"write\"", StringComparison.Ordinal) && c.Contains("\"pk\":{\"id\":50}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reading_a_file_from_a_position_gives_the_format_description_then_the_events_from_there()
    {
        var file = Path.Combine(FixtureRoot, "binlog-streams/mariadb1011-rotate", "binlog.000001");
        var whole = new List<BinlogEvent>();
        await foreach (var e in BinlogFileReader.ReadAsync(file))
        {
            whole.Add(e);
        }

        // A transaction's start (its GTID event): resuming inside one would miss its TABLE_MAP.
        var from = whole.Skip(whole.Count / 2).First(e => e is MariaDbGtidEvent).Header.Position;
        var part = new List<BinlogEvent>();
        await foreach (var e in BinlogFileReader.ReadAsync(file, from))
        {
            part.Add(e);
        }

        Assert.IsType<FormatDescriptionEvent>(part[0]);
        Assert.Equal(whole.Where(e => e.Header.Position >= from).Select(e => e.Header.Position), part.Skip(1).Select(e => e.Header.Position));

        var inside = await Assert.ThrowsAsync<BinlogFormatException>(async () =>
        {
            await foreach (var e in BinlogFileReader.ReadAsync(file, from + 1))
            {
                _ = e;
            }
        });
        Assert.Contains($"start position {from + 1} is inside the event", inside.Message);
        Assert.Contains("binlog.000001", inside.Message);

        // Inside a transaction, after its TABLE_MAP: the rows cannot be attributed, and that is an error, never a skip.
        var afterMap = whole.Skip(whole.Count / 2).First(e => e is RowsEvent).Header.Position;
        var orphan = await Assert.ThrowsAsync<BinlogFormatException>(async () =>
        {
            await foreach (var e in BinlogFileReader.ReadAsync(file, afterMap))
            {
                _ = e;
            }
        });
        Assert.Contains("has no TABLE_MAP", orphan.Message);
    }

    private sealed record ReadResult(List<string> Changes, SourceOffset? Offset, int Events, int PendingPrepares = 0)
    {
        /// <summary>Each change's transaction and row ordinal, in order.</summary>
        public List<string> Ordinals { get; init; } = [];
    }

    /// <summary>
    /// Reads the stream as the capture would: from the start, or from a resume point (its file from
    /// the restart position, then the files after it). Every change is acknowledged as soon as it is
    /// emitted. Stops after <paramref name="stopAfter"/> events.
    /// </summary>
    private static async Task<ReadResult> ReadAsync(List<string> files, ResumePoint? resume, int stopAfter, string? gtid = null, bool streamPayloads = false)
    {
        var options = new BinlogDecoderOptions { StreamTransactionPayloads = streamPayloads };
        var ordinals = new List<string>();
        var extractor = new ChangeExtractor("src", new TableFilter(["*.*"]), resume: resume, gtids: gtid is null ? null : MariaDbGtidPosition.Parse(gtid), allowKeyless: true);
        var tracker = new CommitTracker(resume is null ? null : new SourceOffset(resume.Position, resume.SkipRows, gtid));
        var changes = new List<string>();
        var items = new List<CaptureItem>();
        var events = 0;
        var startIndex = resume is null ? 0 : files.FindIndex(f => Path.GetFileName(f) == resume.Position.File);
        if (startIndex < 0)
        {
            // Stopped after the last file's closing ROTATE: the resume point is the start of a file the recording does not hold.
            Assert.Equal(4, resume!.Position.Position);
            Assert.Equal(0, resume.SkipRows);
            return new ReadResult(changes, tracker.Offset, events);
        }

        for (var i = startIndex; i < files.Count; i++)
        {
            var reader = resume is not null && i == startIndex
                ? BinlogFileReader.ReadAsync(files[i], resume.Position.Position, options: options)
                : BinlogFileReader.ReadAsync(files[i], options: options);
            await foreach (var binlogEvent in reader)
            {
                if (events == stopAfter)
                {
                    return new ReadResult(changes, tracker.Offset, events, extractor.PreparedXaCount) { Ordinals = ordinals };
                }

                events++;
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
                            ordinals.Add($"{captured.TransactionId}#{captured.RowOrdinal}");
                            tracker.Emitted(captured.TransactionId, captured.RowOrdinal);
                            Assert.True(tracker.Completed(captured.TransactionId, captured.RowOrdinal));
                            break;
                        case RowsCounted counted:
                            tracker.RowsSeen(counted.TransactionId, counted.RowsSeen);
                            break;
                        case TransactionEnded ended:
                            tracker.Ended(ended);
                            break;
                        case TransactionPrepared prepared:
                            tracker.Prepared(prepared);
                            break;
                        case XaResolved resolved:
                            tracker.Resolved(resolved);
                            break;
                        case Positioned positioned:
                            tracker.Positioned(positioned);
                            break;
                    }
                }
            }
        }

        return new ReadResult(changes, tracker.Offset, events, extractor.PreparedXaCount) { Ordinals = ordinals };
    }

    private static string Describe(List<string> expected, List<string> actual)
    {
        var missing = expected.Except(actual).Take(2).ToList();
        var extra = actual.GroupBy(c => c).Where(g => g.Count() > expected.Count(e => e == g.Key)).Select(g => g.Key).Take(2).ToList();
        return $"{expected.Count} changes expected, {actual.Count} read; missing: [{string.Join(" | ", missing)}]; repeated: [{string.Join(" | ", extra)}]";
    }

    private static string FindFixtureRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Replicator.sln")))
        {
            directory = directory.Parent;
        }

        return directory is null
            ? throw new InvalidOperationException($"No Replicator.sln above {AppContext.BaseDirectory}.")
            : Path.Combine(directory.FullName, "tests", "fixtures");
    }
}
