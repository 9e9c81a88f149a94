using FsCheck;
using FsCheck.Fluent;
using Replicator.Engine.Replication;
using Replicator.Jobs;

namespace Replicator.Engine.Tests.Replication;

/// <summary>
/// Random interleavings of deliveries, duplicates, batches, successes, failures and time: the
/// queue must never lose a delivery (each is acknowledged exactly once, after it or a newer change
/// of its pk was applied or parked) and must apply each pk's changes in source order.
/// </summary>
public sealed class DedupeQueuePropertyTests
{
    [Theory]
    [InlineData(DedupeMode.Row)]
    [InlineData(DedupeMode.Pk)]
    [InlineData(DedupeMode.EveryChange)]
    public void Random_interleavings_acknowledge_every_delivery_once_and_keep_pk_order(DedupeMode mode)
    {
        var property = Prop.ForAll(
            Arb.From(Gen.Choose(0, int.MaxValue)),
            seed => Run(mode, seed));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    private static bool Run(DedupeMode mode, int seed)
    {
        var random = new Random(seed);
        var retry = new RetryPolicy(TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(8), 1 + random.Next(4), 0.5);
        var queue = new DedupeQueue(mode, retry, seed);
        var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var delivered = new List<Delivery>();
        var acknowledged = new Dictionary<long, int>();
        var inFlight = new List<BatchEntry>();
        var parking = new List<DeadLetter>();
        var confirmed = new HashSet<DeadLetter>(ReferenceEqualityComparer.Instance);
        var lastAppliedVersion = new Dictionary<string, long>();
        var alone = new HashSet<string>();
        long position = 0;
        var steps = 50 + random.Next(300);
        for (var step = 0; step < steps || inFlight.Count > 0 || queue.PendingDeliveries > 0; step++)
        {
            if (step > steps + 10_000)
            {
                throw new InvalidOperationException("The queue did not drain.");
            }

            var choice = step < steps ? random.Next(10) : 5 + random.Next(5);
            if (choice < 4)
            {
                var pk = random.Next(8);
                position += 10;
                var change = random.Next(3) switch
                {
                    0 => TestChanges.Write(pk, position, position),
                    1 => TestChanges.Update(pk, position - 1, position, position),
                    _ => TestChanges.Delete(pk, position, position),
                };
                var delivery = new Delivery(new DeliveryId("e", delivered.Count + 1), change);
                delivered.Add(delivery);
                queue.Enqueue(delivery);
            }
            else if (choice == 4 && delivered.Count > 0)
            {
                // A re-delivery of something sent before.
                var again = delivered[random.Next(delivered.Count)];
                var result = queue.Enqueue(again);
                if (result == EnqueueResult.AlreadyFinished)
                {
                    Assert.True(acknowledged.ContainsKey(again.Id.Sequence));
                }

                if (parking.Any(l => !confirmed.Contains(l) && l.Covered.Contains(again.Id)))
                {
                    // Parked but not yet confirmed by the store: held, never acknowledged as finished.
                    Assert.Equal(EnqueueResult.Duplicate, result);
                }
            }
            else if (choice < 7)
            {
                var batch = queue.TakeBatch(1 + random.Next(5), now);
                Assert.True(batch.Count == 1 || !batch.Any(e => alone.Contains(e.Key.Canonical)), "a pk to be tried alone shared a batch");
                inFlight.AddRange(batch);
                Assert.Equal(inFlight.Count, inFlight.Select(e => e.Key).Distinct().Count());
            }
            else if (choice < 9 && inFlight.Count > 0)
            {
                var index = random.Next(inFlight.Count);
                var entry = inFlight[index];
                inFlight.RemoveAt(index);
                if (random.Next(6) == 0)
                {
                    // Its batch failed as a whole: tried again alone, without spending an attempt.
                    queue.RetryAlone(entry);
                    alone.Add(entry.Key.Canonical);
                    continue;
                }

                var ok = random.Next(3) != 0;
                var completion = queue.Complete(entry, ok ? ApplyResult.Applied : ApplyResult.Failed("x"), now);
                if (ok || completion.DeadLetter is not null)
                {
                    alone.Remove(entry.Key.Canonical);
                    var version = entry.Latest.Change.Version.Position;
                    if (lastAppliedVersion.TryGetValue(entry.Key.Canonical, out var previous))
                    {
                        Assert.True(version > previous, $"pk {entry.Key} applied version {version} after {previous}");
                    }

                    lastAppliedVersion[entry.Key.Canonical] = version;
                }

                if (completion.DeadLetter is { } letter)
                {
                    Assert.Empty(completion.Acknowledge);
                    parking.Add(letter);
                }

                foreach (var id in completion.Acknowledge)
                {
                    acknowledged[id.Sequence] = acknowledged.GetValueOrDefault(id.Sequence) + 1;
                }
            }
            else if (choice == 9 && parking.Count > 0)
            {
                // The store confirms a parked letter (in any order, and some more than once).
                var letter = parking[random.Next(parking.Count)];
                confirmed.Add(letter);
                if (random.Next(4) != 0)
                {
                    parking.Remove(letter);
                }

                foreach (var id in queue.FinishParked(letter))
                {
                    acknowledged[id.Sequence] = acknowledged.GetValueOrDefault(id.Sequence) + 1;
                }
            }
            else
            {
                now = queue.NextRetryAt is { } due && random.Next(2) == 0 ? due : now.AddSeconds(random.Next(3));
            }
        }

        foreach (var delivery in delivered)
        {
            Assert.True(acknowledged.TryGetValue(delivery.Id.Sequence, out var count) && count == 1, $"delivery {delivery.Id} acknowledged {count} times");
        }

        return true;
    }
}
