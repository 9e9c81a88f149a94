namespace Replicator.FaultTests.Harness;

/// <summary>
/// Pks whose Redis keys are made unwritable (F8's recipe: <c>SET &lt;prefix&gt;src:t:&lt;pk&gt; "str"</c>,
/// so every HSET/HDEL of them meets WRONGTYPE and they are dead-lettered), taken beyond the
/// generator's key space and pk-change range so that only the scenario writes them, when it wants a
/// dead letter.
/// </summary>
public static class PoisonPks
{
    public const long Base = 800_000_000;

    public static long[] Take(int count) => [.. Enumerable.Range(1, count).Select(i => Base + i)];

    /// <summary>Makes the pks' keys unwritable (before the nodes start, or at any time).</summary>
    public static async Task PoisonAsync(FaultRun run, IEnumerable<long> pks)
    {
        var database = (await run.Redis.ClientAsync()).GetDatabase();
        foreach (var pk in pks)
        {
            await database.StringSetAsync($"{run.Options.KeyPrefix}src:t:{pk}", "str");
        }
    }

    /// <summary>Deletes the poison keys (and any version key), so that a retry of their dead letters can apply.</summary>
    public static async Task RepairAsync(FaultRun run, IEnumerable<long> pks)
    {
        var database = (await run.Redis.ClientAsync()).GetDatabase();
        foreach (var pk in pks)
        {
            await database.KeyDeleteAsync([$"{run.Options.KeyPrefix}src:t:{pk}", $"{run.Options.KeyPrefix}_v:src:t:{pk}"]);
        }
    }

    /// <summary>
    /// Repairs the poison keys, asks a node to retry the definition's dead letters
    /// (POST /dead-letters/&lt;definition&gt;/retry) and waits up to 60 s for the store to empty.
    /// Returns the letters left and how long the store took to empty.
    /// </summary>
    public static async Task<(int Remaining, TimeSpan Drained)> RepairAndRetryAsync(FaultRun run, IEnumerable<long> pks)
    {
        await RepairAsync(run, pks);
        var retry = await run.Nodes.First(n => n.Running).PostAsync($"/dead-letters/{FaultRun.Definition}/retry");
        var retried = DateTime.UtcNow;
        run.Mark($"poison keys deleted; POST /dead-letters/{FaultRun.Definition}/retry: {retry.ReplaceLineEndings(" ").Trim()}");
        var remaining = await Eventually.UntilAsync(run.DeadLettersAsync, l => l.Count == 0, TimeSpan.FromSeconds(60));
        var drained = DateTime.UtcNow - retried;
        run.Mark($"{remaining.Count} dead letters left after {drained.TotalSeconds:0.0} s");
        return (remaining.Count, drained);
    }
}
