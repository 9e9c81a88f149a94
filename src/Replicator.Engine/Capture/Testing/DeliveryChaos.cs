using Replicator.Engine.Configuration;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Capture.Testing;

/// <summary>
/// Test-only fault injection (<c>replicator.testing.chaos</c>), installed by the capture only when
/// those settings ask for it: between ordering a bucket's changes and cutting them into deliveries,
/// some changes are copied to go out again later, as duplicates of their own (a new sequence number
/// nothing waits for) after newer changes of the same bucket, and each window of changes is
/// shuffled. Buckets then see old versions arrive after new ones, and sinks have to fence them.
/// </summary>
public sealed class DeliveryChaos
{
    private readonly Random _random;
    private readonly double _duplicateProbability;
    private readonly int _shuffleWindow;
    private readonly Dictionary<(int Route, int Bucket), List<SequencedChange>> _lateDuplicates = [];

    private DeliveryChaos(TestingSettings testing)
    {
        _random = new Random(testing.Seed);
        _duplicateProbability = testing.DuplicateProbability;
        _shuffleWindow = testing.ShuffleWindow;
    }

    /// <summary>The chaos <paramref name="testing"/> asks for, or null (production) when it asks for none.</summary>
    public static DeliveryChaos? For(TestingSettings testing) => testing.ChaosEnabled ? new DeliveryChaos(testing) : null;

    /// <summary>
    /// What goes to bucket <paramref name="key"/> instead of <paramref name="ordered"/>: the late
    /// duplicates held for it, then these changes, shuffled; <paramref name="nextSequence"/> numbers
    /// the duplicates it holds back for the bucket's next delivery.
    /// </summary>
    public List<SequencedChange> Shape((int Route, int Bucket) key, List<SequencedChange> ordered, Func<long> nextSequence)
    {
        var result = new List<SequencedChange>(ordered);
        if (_lateDuplicates.Remove(key, out var late))
        {
            result.AddRange(late);
        }

        foreach (var change in ordered)
        {
            if (_random.NextDouble() < _duplicateProbability)
            {
                if (!_lateDuplicates.TryGetValue(key, out var pending))
                {
                    _lateDuplicates[key] = pending = [];
                }

                pending.Add(new SequencedChange(nextSequence(), change.Change));
            }
        }

        for (var start = 0; _shuffleWindow > 1 && start < result.Count; start += _shuffleWindow)
        {
            var end = Math.Min(result.Count, start + _shuffleWindow);
            for (var i = end - 1; i > start; i--)
            {
                var j = start + _random.Next(i - start + 1);
                (result[i], result[j]) = (result[j], result[i]);
            }
        }

        return result;
    }

    /// <summary>
    /// Forgets the duplicates held back: the capture restarted with a new epoch and numbers its
    /// changes from 1 again, so an old duplicate's sequence number could name a change of the new
    /// epoch, and finishing it would settle that change before it was applied.
    /// </summary>
    public void Restarted() => _lateDuplicates.Clear();
}
