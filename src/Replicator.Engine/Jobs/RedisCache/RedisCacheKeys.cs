using System.Text;

namespace Replicator.Engine.Jobs.RedisCache;

/// <summary>
/// The redis-cache key layout, in one place for the job and its checker: a row's hash is
/// <c>&lt;prefix&gt;&lt;schema&gt;:&lt;table&gt;:&lt;pk&gt;</c> and its source version (a delete's
/// tombstone) <c>&lt;prefix&gt;_v:&lt;schema&gt;:&lt;table&gt;:&lt;pk&gt;</c>, the pk being its canonical text.
/// </summary>
public static class RedisCacheKeys
{
    /// <summary>What every row hash of a table starts with.</summary>
    public static string RowPrefix(string prefix, string schema, string table) => $"{prefix}{schema}:{table}:";

    /// <summary>What every version key of a table starts with.</summary>
    public static string VersionPrefix(string prefix, string schema, string table) => $"{prefix}_v:{schema}:{table}:";

    /// <summary>The key of a row's hash.</summary>
    public static string Row(string prefix, string schema, string table, string canonicalPk) => RowPrefix(prefix, schema, table) + canonicalPk;

    /// <summary>The key holding a row's source version.</summary>
    public static string Version(string prefix, string schema, string table, string canonicalPk) => VersionPrefix(prefix, schema, table) + canonicalPk;

    /// <summary>A SCAN MATCH pattern for every row hash of a table (the prefix's glob characters escaped).</summary>
    public static string RowPattern(string prefix, string schema, string table)
    {
        var text = RowPrefix(prefix, schema, table);
        var pattern = new StringBuilder(text.Length + 1);
        foreach (var ch in text)
        {
            if (ch is '*' or '?' or '[' or ']' or '\\')
            {
                pattern.Append('\\');
            }

            pattern.Append(ch);
        }

        return pattern.Append('*').ToString();
    }

    /// <summary>The canonical pk of a row hash's key, given its table's <see cref="RowPrefix"/>.</summary>
    public static string PkOf(string rowPrefix, string key) =>
        key.StartsWith(rowPrefix, StringComparison.Ordinal) ? key[rowPrefix.Length..] : throw new ArgumentException($"The key does not start with the table's prefix {rowPrefix}.", nameof(key));
}
