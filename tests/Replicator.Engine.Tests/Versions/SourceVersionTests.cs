using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Model;

namespace Replicator.Engine.Tests.Versions;

/// <summary>
/// Versions fence the sinks (a write lands only over an older version, compared as text), so they
/// must order the changes of a row the way its source made them: on one server, across a fail-over
/// to a replica of the same topology, and across the switch from positional versions to GTID ones.
/// </summary>
public sealed class SourceVersionTests
{
    private static readonly TableSchema Orders = new(
        "shop",
        "orders",
        [new ColumnDefinition("id", ColumnType.Long, 0, false), new ColumnDefinition("v", ColumnType.Long, 0, true)],
        [0]);

    [Fact]
    public void After_a_fail_over_to_a_replica_with_lower_binlog_numbers_new_changes_version_above_the_old_servers()
    {
        // Server A writes 0-1-1 .. 0-1-3 in binlog 000009; replica B logs them in its binlog 000002
        // at other positions, is promoted and writes 0-2-4 and 0-2-5.
        var onA = Versions(new ChangeExtractor("src", TableFilter.All, gtids: MariaDbGtidPosition.Empty), "a-bin.000009", serverId: 1, firstPosition: 50_000, (0, 1), (0, 2), (0, 3));
        var replayedOnB = Versions(new ChangeExtractor("src", TableFilter.All, gtids: MariaDbGtidPosition.Empty), "b-bin.000002", serverId: 1, firstPosition: 300, (0, 1), (0, 2), (0, 3));
        var newOnB = Versions(new ChangeExtractor("src", TableFilter.All, gtids: MariaDbGtidPosition.Parse("0-1-3")), "b-bin.000002", serverId: 2, firstPosition: 2_000, (0, 4), (0, 5));

        Assert.Equal(onA, replayedOnB);
        AssertAscending([.. onA, .. newOnB]);
        Assert.True(new SourceVersion(9, 50_000, 0) > new SourceVersion(2, 2_000, 0), "by file position B's new changes would look older than A's");
    }

    [Fact]
    public void A_gtid_version_beats_every_positional_version_written_before_the_switch()
    {
        var gtid = Versions(new ChangeExtractor("src", TableFilter.All, gtids: MariaDbGtidPosition.Empty), "mariadb-bin.000001", serverId: 1, firstPosition: 4, (0, 1));
        SourceVersion[] positional = [new(0, 0, 0), new(1, 4, 0), new(0x7FFF_FFFF, 0xFFFF_FFFF_FFFF, 0xFF_FFFF), new(0xFFFF_FFFF, 0xFFFF_FFFF_FFFF, 0xFF_FFFF)];
        foreach (var old in positional)
        {
            AssertAscending([old, gtid[0]]);
        }
    }

    [Fact]
    public void Transactions_of_several_domains_version_in_the_order_one_server_logged_them()
    {
        // Domain 1 (say, a second source of a multi-source replica) is far behind domain 0 in numbers;
        // a row changed in 0-1-100, then in 1-1-5, then in 0-1-101 keeps that order.
        var versions = Versions(new ChangeExtractor("src", TableFilter.All, gtids: MariaDbGtidPosition.Parse("0-1-99,1-1-4")), "mariadb-bin.000004", serverId: 1, firstPosition: 4, (0, 100), (1, 5), (0, 101));
        AssertAscending(versions);
    }

    [Fact]
    public void Rows_of_one_transaction_version_by_their_place_in_it_whatever_events_carry_them()
    {
        var extractor = new ChangeExtractor("src", TableFilter.All, gtids: MariaDbGtidPosition.Empty);
        var items = new List<CaptureItem>();
        foreach (var e in Transaction("mariadb-bin.000001", 1, 100, 0, 7, rowsEvents: 2, rowsPerEvent: 3))
        {
            extractor.Process(e, items);
        }

        var versions = items.OfType<ChangeCaptured>().Select(c => c.Change.Version).ToList();
        Assert.Equal(6, versions.Count);
        AssertAscending(versions);
        Assert.Equal(SourceVersion.OfGtid(7, 5), versions[^1]);
    }

    [Fact]
    public void The_text_form_orders_as_the_versions_do_and_parses_back()
    {
        SourceVersion[] ordered = [new(0, 4, 0), new(1, 4000, 3), new(0xFFFF_FFFF, 0xFFFF_FFFF_FFFF, 0xFF_FFFF), SourceVersion.OfGtid(1, 0), SourceVersion.OfGtid(1, 1), SourceVersion.OfGtid(2, 0), SourceVersion.OfGtid(0xFFFF_FFFF_FFFF, 0x7FFF_FFFF), SourceVersion.OfGtid(ulong.MaxValue, int.MaxValue)];
        AssertAscending(ordered);
        Assert.All(ordered, v => Assert.Equal(v, SourceVersion.Parse(v.ToString())));
        Assert.Equal("g00000000000000070000000c", SourceVersion.OfGtid(7, 12).ToString());
        Assert.Equal(SourceVersionKind.Gtid, SourceVersion.OfGtid(7, 12).Kind);
        Assert.Throws<FormatException>(() => SourceVersion.Parse("g0000000000000007"));
    }

    [Fact]
    public void The_gtid_rank_is_the_sum_of_the_position_after_the_transaction()
    {
        Assert.Equal(107UL, SourceVersion.GtidRank(MariaDbGtidPosition.Parse("0-1-99,1-1-4"), new MariaDbGtid(1, 1, 8)));
        Assert.Equal(104UL, SourceVersion.GtidRank(MariaDbGtidPosition.Parse("0-1-99,1-1-4"), new MariaDbGtid(0, 2, 100)));
        Assert.Equal(3UL, SourceVersion.GtidRank(MariaDbGtidPosition.Empty, new MariaDbGtid(5, 1, 3)));
    }

    private static void AssertAscending(IReadOnlyList<SourceVersion> versions)
    {
        for (var i = 1; i < versions.Count; i++)
        {
            Assert.True(versions[i - 1] < versions[i], $"{versions[i - 1]} should be below {versions[i]}");
            Assert.True(string.CompareOrdinal(versions[i - 1].ToString(), versions[i].ToString()) < 0, $"text {versions[i - 1]} should sort below {versions[i]}");
        }
    }

    /// <summary>One single-row transaction per GTID, all on pk 1, from <paramref name="firstPosition"/> on; the version of each change.</summary>
    private static List<SourceVersion> Versions(ChangeExtractor extractor, string file, uint serverId, long firstPosition, params (uint Domain, ulong Sequence)[] gtids)
    {
        var items = new List<CaptureItem>();
        var position = firstPosition;
        foreach (var (domain, sequence) in gtids)
        {
            foreach (var e in Transaction(file, serverId, position, domain, sequence, rowsEvents: 1, rowsPerEvent: 1))
            {
                extractor.Process(e, items);
            }

            position += 1_000;
        }

        return items.OfType<ChangeCaptured>().Select(c => c.Change.Version).ToList();
    }

    private static IEnumerable<BinlogEvent> Transaction(string file, uint serverId, long start, uint domain, ulong sequence, int rowsEvents, int rowsPerEvent)
    {
        EventHeader H(BinlogEventType type, long position) => new(1_767_225_600, type, serverId, 10, (uint)(position + 10), 0);
        yield return new MariaDbGtidEvent(H(BinlogEventType.MariaDbGtid, start), file, domain, sequence, 0x0c, null);
        yield return new QueryEvent(H(BinlogEventType.Query, start + 10), file, 1, 0, 0, "shop", "BEGIN");
        var at = start + 20;
        for (var e = 0; e < rowsEvents; e++, at += 10)
        {
            var rows = Enumerable.Range(0, rowsPerEvent).Select(r => new RowImage(null, [ColumnValue.FromInt64(1), ColumnValue.FromInt64((e * 10) + r)])).ToArray();
            yield return new RowsEvent(H(BinlogEventType.WriteRowsV1, at), file, RowsEventKind.Write, 42, Orders, 1, rows);
        }

        yield return new XidEvent(H(BinlogEventType.Xid, at), file, 99);
    }
}
