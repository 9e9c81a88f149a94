using System.Text.RegularExpressions;

namespace Replicator.Engine.Routing;

/// <summary>
/// Whether a topic (<c>orders_write</c>) is one a definition follows: exact names, or globs with
/// <c>*</c> and <c>?</c> (<c>*_write</c>, <c>order?_update</c>). Matching is case-insensitive, as
/// MySQL table names usually are.
/// </summary>
public sealed class TopicMatcher
{
    private readonly HashSet<string> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly Regex[] _globs;
    private readonly Dictionary<string, bool> _cache = new(StringComparer.OrdinalIgnoreCase);

    public TopicMatcher(IEnumerable<string> topics)
    {
        var globs = new List<Regex>();
        foreach (var topic in topics.Select(t => t.Trim()).Where(t => t.Length > 0))
        {
            if (topic.IndexOfAny(['*', '?']) < 0)
            {
                _exact.Add(topic);
            }
            else
            {
                var pattern = "^" + Regex.Escape(topic).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
                globs.Add(new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant));
            }
        }

        _globs = globs.ToArray();
    }

    public bool Matches(string topic)
    {
        if (_exact.Contains(topic))
        {
            return true;
        }

        if (_cache.TryGetValue(topic, out var matched))
        {
            return matched;
        }

        matched = _globs.Any(g => g.IsMatch(topic));
        if (_cache.Count < 100_000)
        {
            _cache[topic] = matched;
        }

        return matched;
    }
}
