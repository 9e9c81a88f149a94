using Replicator.Engine.Capture.Testing;
using Replicator.Engine.Configuration;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Tests.Capture;

public sealed class DeliveryChaosTests
{
    private long _sequence = 100;

    [Fact]
    public void Without_chaos_settings_there_is_no_chaos_to_install()
    {
        Assert.Null(DeliveryChaos.For(Testing(duplicates: 0, window: 0)));
        Assert.Null(DeliveryChaos.For(Testing(duplicates: 0, window: 1)));
    }

    [Fact]
    public void Duplicates_go_out_with_the_buckets_next_delivery_under_new_sequence_numbers()
    {
        var chaos = DeliveryChaos.For(Testing(duplicates: 1, window: 0))!;
        var first = Changes(1, 2, 3);

        var sent = chaos.Shape((0, 5), first, () => ++_sequence);
        Assert.Equal(first.Select(c => c.Sequence), sent.Select(c => c.Sequence));

        var second = Changes(4);
        var next = chaos.Shape((0, 5), second, () => ++_sequence);
        Assert.Equal([4L, 101, 102, 103], next.Select(c => c.Sequence));
        Assert.Equal(first.Select(c => c.Change), next.Skip(1).Select(c => c.Change));

        // Another bucket gets only its own duplicates.
        var other = chaos.Shape((1, 5), Changes(9), () => ++_sequence);
        Assert.Equal([9L], other.Select(c => c.Sequence));
    }

    [Fact]
    public void Shuffling_keeps_every_change_and_moves_none_out_of_its_window()
    {
        var chaos = DeliveryChaos.For(Testing(duplicates: 0, window: 4, seed: 7))!;
        var ordered = Changes(Enumerable.Range(1, 12).Select(i => (long)i).ToArray());

        var sent = chaos.Shape((0, 0), ordered, () => ++_sequence);

        Assert.Equal(ordered.Select(c => c.Sequence).Order(), sent.Select(c => c.Sequence).Order());
        Assert.NotEqual(ordered.Select(c => c.Sequence), sent.Select(c => c.Sequence));
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.Equal(i / 4, (int)(sent[i].Sequence - 1) / 4);
        }
    }

    [Fact]
    public void A_restart_forgets_the_duplicates_of_the_old_epoch()
    {
        var chaos = DeliveryChaos.For(Testing(duplicates: 1, window: 0))!;
        chaos.Shape((0, 0), Changes(1, 2), () => ++_sequence);

        chaos.Restarted();

        Assert.Equal([1L], chaos.Shape((0, 0), Changes(1), () => ++_sequence).Select(c => c.Sequence));
        Assert.Equal([2L, 103], chaos.Shape((0, 0), Changes(2), () => ++_sequence).Select(c => c.Sequence));
    }

    private static TestingSettings Testing(double duplicates, int window, int seed = 42) =>
        new(duplicates, window, seed, "", CrashPoint.None, 1);

    private static List<SequencedChange> Changes(params long[] sequences) =>
        sequences.Select(s => new SequencedChange(s, TestChanges.Write(1, s, s * 10))).ToList();
}
