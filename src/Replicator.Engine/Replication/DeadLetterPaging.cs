namespace Replicator.Engine.Replication;

/// <summary>
/// Cuts a page out of the dead-letter store's entries: at most the limit's letters from the offset,
/// and, as deliveries are cut, no more than <c>maxBytes</c> of their estimated wire size (the first
/// letter always goes: each fits a message by itself, see <see cref="DeadLetterBounds"/>). Pure, for tests.
/// </summary>
public static class DeadLetterPaging
{
    /// <summary>The page of <paramref name="inOrder"/> (all <paramref name="total"/> entries, in listing order) at <paramref name="offset"/>.</summary>
    public static DeadLetterPage Page(IEnumerable<DeadLetterParked> inOrder, int total, int offset, int limit, long maxBytes)
    {
        offset = Math.Clamp(offset, 0, total);
        limit = Math.Clamp(limit, 1, ListDeadLetterPage.MaxLimit);
        var entries = new List<DeadLetterParked>(Math.Min(limit, total - offset));
        long bytes = 0;
        foreach (var letter in inOrder.Skip(offset))
        {
            var size = DeadLetterBounds.EstimatedSize(letter);
            if (entries.Count == limit || (entries.Count > 0 && bytes + size > maxBytes))
            {
                break;
            }

            entries.Add(letter);
            bytes += size;
        }

        var next = offset + entries.Count;
        return new DeadLetterPage(total, offset, entries, next < total ? next : null);
    }
}
