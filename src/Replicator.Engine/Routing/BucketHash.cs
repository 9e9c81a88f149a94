using System.Text;

namespace Replicator.Engine.Routing;

/// <summary>
/// Picks a pk's bucket: a 64-bit FNV-1a hash of the pk's canonical UTF-8 text, spread over the
/// buckets by jump consistent hashing (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash
/// Algorithm", 2014). Stable across processes, platforms and versions; never
/// <see cref="string.GetHashCode()"/>. Changing a definition's bucket count moves only about
/// 1/n of the pks.
/// </summary>
public static class BucketHash
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public static int BucketOf(string canonicalKey, int buckets)
    {
        if (buckets <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(buckets), buckets, "A definition needs at least one bucket.");
        }

        return JumpConsistentHash(Fnv1a64(canonicalKey), buckets);
    }

    public static ulong Fnv1a64(string text)
    {
        Span<byte> stack = stackalloc byte[256];
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var bytes = max <= stack.Length ? stack : new byte[max];
        var length = Encoding.UTF8.GetBytes(text, bytes);
        var hash = FnvOffset;
        foreach (var b in bytes[..length])
        {
            hash ^= b;
            hash *= FnvPrime;
        }

        return hash;
    }

    public static int JumpConsistentHash(ulong key, int buckets)
    {
        long b = -1;
        long j = 0;
        while (j < buckets)
        {
            b = j;
            key = unchecked(key * 2862933555777941757UL + 1);
            j = (long)((b + 1) * ((double)(1L << 31) / ((key >> 33) + 1)));
        }

        return (int)b;
    }
}
