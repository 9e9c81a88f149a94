namespace Replicator.Binlog.Tests;

/// <summary>Assertions about object identity, for what the decoder must not share.</summary>
internal static class Instances
{
    /// <summary>No item is the same instance as an earlier one; with <paramref name="atLeastTwo"/>, there were two or more to compare.</summary>
    public static void AssertDistinct<T>(IEnumerable<T> items, bool atLeastTwo = false)
        where T : class
    {
        var seen = new HashSet<T>(ReferenceEqualityComparer.Instance);
        var index = 0;
        foreach (var item in items)
        {
            Assert.True(seen.Add(item), $"{typeof(T).Name} {index} is the same instance as an earlier one");
            index++;
        }

        Assert.True(!atLeastTwo || index > 1, "at least two items to compare");
    }
}
