namespace Replicator.Engine.Capture;

/// <summary>
/// Where a bucket's changes are cut into deliveries: after <c>maxChanges</c> changes, or before the
/// change that would take a delivery past <c>maxBytes</c> of estimated wire size, whichever comes
/// first. A change larger than <c>maxBytes</c> goes alone. Pure, for tests.
/// </summary>
internal static class DeliveryCuts
{
    /// <summary>The deliveries as (start, count) ranges of <paramref name="sizes"/>, in order.</summary>
    public static IEnumerable<(int Start, int Count)> Of(IReadOnlyList<long> sizes, int maxChanges, long maxBytes)
    {
        var start = 0;
        long bytes = 0;
        for (var i = 0; i < sizes.Count; i++)
        {
            if (i > start && (i - start == maxChanges || bytes + sizes[i] > maxBytes))
            {
                yield return (start, i - start);
                start = i;
                bytes = 0;
            }

            bytes += sizes[i];
        }

        if (sizes.Count > start)
        {
            yield return (start, sizes.Count - start);
        }
    }
}
