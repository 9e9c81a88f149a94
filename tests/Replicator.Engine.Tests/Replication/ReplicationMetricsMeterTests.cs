using System.Diagnostics.Metrics;
using Replicator.Engine.Replication;

namespace Replicator.Engine.Tests.Replication;

public sealed class ReplicationMetricsMeterTests
{
    private static Dictionary<string, (string Kind, long Value, string Tag)> Observe(ReplicationMetrics metrics)
    {
        var seen = new Dictionary<string, (string, long, string)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var tag = tags.Length == 1 ? $"{tags[0].Key}={tags[0].Value}" : $"{tags.Length} tags";
            var kind = instrument.GetType().Name.StartsWith("ObservableCounter", StringComparison.Ordinal) ? "counter" : "gauge";
            seen[$"{instrument.Name}|{tag}"] = (kind, value, tag);
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    [Fact]
    public void The_counters_are_published_on_the_Replicator_meter_tagged_by_definition_and_source()
    {
        using var metrics = new ReplicationMetrics();
        Assert.Equal("Replicator", metrics.Meter.Name);
        metrics.Definition("cache").AddApplied(7);
        metrics.Definition("cache").AddPending(3);
        metrics.StaleWritesRefused("cache", 2);
        metrics.Source("shop").AddCaptured(11);
        metrics.Source("shop").SetPausedTables(1);
        metrics.Source("shop").SetOldestUnfinished(DateTime.UtcNow.AddSeconds(-30));

        var seen = Observe(metrics);

        Assert.Equal(("counter", 7L, "definition=cache"), seen["replicator_changes_applied|definition=cache"]);
        Assert.Equal(("counter", 2L, "definition=cache"), seen["replicator_stale_writes_refused|definition=cache"]);
        Assert.Equal(("counter", 0L, "definition=cache"), seen["replicator_dead_letters|definition=cache"]);
        Assert.Equal(("gauge", 3L, "definition=cache"), seen["replicator_bucket_pending_deliveries|definition=cache"]);
        Assert.Equal(("counter", 11L, "source=shop"), seen["replicator_changes_captured|source=shop"]);
        Assert.Equal(("gauge", 1L, "source=shop"), seen["replicator_capture_paused_tables|source=shop"]);
        Assert.InRange(seen["replicator_capture_oldest_unfinished_age_seconds|source=shop"].Value, 29, 60);
        Assert.Equal(0L, seen["replicator_capture_oldest_xa_prepare_age_seconds|source=shop"].Value);
    }

    [Fact]
    public void Later_observations_see_counters_moved_and_a_disposed_meter_publishes_nothing()
    {
        var metrics = new ReplicationMetrics();
        metrics.Definition("cache").AddApplied(1);
        Assert.Equal(1L, Observe(metrics)["replicator_changes_applied|definition=cache"].Value);
        metrics.Definition("cache").AddApplied(4);
        Assert.Equal(5L, Observe(metrics)["replicator_changes_applied|definition=cache"].Value);

        metrics.Dispose();
        Assert.Empty(Observe(metrics));
    }
}
