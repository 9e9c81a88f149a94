namespace Replicator.Testing;

public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes; returns the last value.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var value = await probe();
        while (!condition(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(250));
            value = await probe();
        }

        return value;
    }
}
