using Akka.Actor;
using Replicator.Binlog.Columns;
using Replicator.Engine.Configuration;
using Replicator.Engine.Replication;
using Replicator.Engine.Serialization;
using Replicator.Model;

namespace Replicator.Engine.Tests.Replication;

/// <summary>Dead letters cut to a size that is stored and crosses nodes, and listings cut into pages.</summary>
public sealed class DeadLetterBoundsTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("bounds", ReplicatorSettings.Defaults);

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private static DeadLetterParked Letter(long id, string error, RowChange? change = null) =>
        new("cache", 0, change ?? TestChanges.Write(id, 1, 100 + id), error, 3, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 1, 0, 1, 0, DateTimeKind.Utc));

    [Fact]
    public void A_long_sink_error_keeps_its_start_and_says_how_many_characters_were_cut()
    {
        var error = "ERR value echoed: " + new string('x', 5_000_000);

        var cut = DeadLetterBounds.Error(error);

        Assert.True(cut.Length <= DeadLetterBounds.MaxErrorChars, $"{cut.Length} characters");
        Assert.StartsWith("ERR value echoed: xxx", cut);
        var kept = cut.IndexOf(" [… ", StringComparison.Ordinal);
        Assert.EndsWith($" [… {error.Length - kept:N0} more characters cut]", cut);
        Assert.Same("short", DeadLetterBounds.Error("short"));
    }

    [Fact]
    public void A_cut_never_splits_a_surrogate_pair()
    {
        var error = new string('a', 99) + string.Concat(Enumerable.Repeat("𝄞", 100));

        // 100 characters kept would end in the first half of a pair: 99 are kept.
        var cut = DeadLetterBounds.Error(error, 100 + " [… 299 more characters cut]".Length);

        Assert.Equal(new string('a', 99) + " [… 200 more characters cut]", cut);
    }

    [Fact]
    public void A_letter_whose_change_nearly_fills_a_frame_keeps_its_change_and_with_a_several_megabyte_error_still_fits_one_message()
    {
        var settings = ReplicatorSettings.Create(_system).Capture;
        var limits = DeadLetterLimits.Of(settings);
        var serializer = (ReplicatorSerializer)_system.Serialization.FindSerializerForType(typeof(DeadLetterParked));
        foreach (var body in new[] { 10, 1_000_000, (int)limits.MaxLetterBytes - 400 })
        {
            var change = Wide(body);
            Assert.True(WireFormat.EstimatedSize(change) <= settings.MaxChangeBytes, "the change itself must be deliverable");
            var letter = Letter(1, "WRONGTYPE " + new string('é', 3_000_000), change);

            var fitted = DeadLetterBounds.Fit(letter, limits.MaxLetterBytes);

            Assert.Same(change, fitted.Change);
            Assert.EndsWith("more characters cut]", fitted.Error);
            if (body < 2_000_000)
            {
                Assert.StartsWith("WRONGTYPE éé", fitted.Error);
            }

            var bytes = serializer.ToBinary(fitted).Length;
            Assert.True(bytes <= settings.MaxFrameSize - 2048, $"a letter with a {body}-character row takes {bytes:N0} bytes, over the frame less room for the envelope");
            Assert.Equal(fitted.Error, ((DeadLetterParked)serializer.FromBinary(serializer.ToBinary(fitted), "DP")).Error);
        }
    }

    [Fact]
    public void Pages_hold_at_most_the_limit_from_the_offset_and_say_where_the_next_begins()
    {
        var letters = Enumerable.Range(1, 250).Select(i => Letter(i, "refused")).ToList();

        var first = DeadLetterPaging.Page(letters, letters.Count, 0, 100, long.MaxValue);
        var last = DeadLetterPaging.Page(letters, letters.Count, 200, 100, long.MaxValue);
        var beyond = DeadLetterPaging.Page(letters, letters.Count, 400, 100, long.MaxValue);

        Assert.Equal((250, 0, 100, (int?)100), (first.Total, first.Offset, first.Entries.Count, first.Next));
        Assert.Equal("1", first.Entries[0].Change.Key.Canonical);
        Assert.Equal((200, 50, (int?)null), (last.Offset, last.Entries.Count, last.Next));
        Assert.Equal("201", last.Entries[0].Change.Key.Canonical);
        Assert.Equal((250, 0, (int?)null), (beyond.Offset, beyond.Entries.Count, beyond.Next));
        Assert.Equal(ListDeadLetterPage.MaxLimit, DeadLetterPaging.Page(Enumerable.Range(1, 2000).Select(i => Letter(i, "e")), 2000, 0, int.MaxValue, long.MaxValue).Entries.Count);
    }

    [Fact]
    public void A_page_is_cut_before_its_letters_would_pass_the_byte_bound_but_always_carries_one()
    {
        var big = new string('e', DeadLetterBounds.MaxErrorChars);
        var letters = Enumerable.Range(1, 10).Select(i => Letter(i, big)).ToList();
        var size = DeadLetterBounds.EstimatedSize(letters[0]);

        var page = DeadLetterPaging.Page(letters, 10, 2, 100, (size * 3) + 1);
        var tiny = DeadLetterPaging.Page(letters, 10, 9, 100, 1);

        Assert.Equal(3, page.Entries.Count);
        Assert.Equal(5, page.Next);
        Assert.Single(tiny.Entries);
        Assert.Null(tiny.Next);
    }

    private static RowChange Wide(int chars)
    {
        var change = TestChanges.Write(1, 1, 100);
        var after = new RowData(["id", "body"], [ColumnValue.FromInt64(1), ColumnValue.FromString(new string('t', chars))]);
        return change with { After = after };
    }
}
