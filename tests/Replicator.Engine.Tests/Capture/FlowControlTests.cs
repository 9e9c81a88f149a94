using Replicator.Engine.Capture;

namespace Replicator.Engine.Tests.Capture;

public sealed class FlowControlTests
{
    [Fact]
    public async Task The_reader_waits_while_either_changes_or_bytes_are_short_and_goes_on_when_both_return()
    {
        var credits = new FlowControl(capacity: 100, byteCapacity: 1000);
        await credits.AcquireAsync(10, 900, CancellationToken.None);

        // Changes to spare, bytes not: it waits.
        var waiting = credits.AcquireAsync(10, 200, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        credits.Release(5, 50);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        credits.Release(5, 850);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(90, credits.Available);
        Assert.Equal(800, credits.AvailableBytes);
    }

    [Fact]
    public async Task A_change_larger_than_the_byte_pool_waits_for_a_full_pool_and_then_goes()
    {
        var credits = new FlowControl(capacity: 100, byteCapacity: 1000);
        await credits.AcquireAsync(1, 10, CancellationToken.None);
        var huge = credits.AcquireAsync(1, 5000, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(huge.IsCompleted);
        credits.Release(1, 10);
        await huge.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(-4000, credits.AvailableBytes);
    }
}
