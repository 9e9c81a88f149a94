using System.Text.RegularExpressions;

namespace Replicator.Engine.Capture;

/// <summary>
/// Which tables a source captures: <c>db.table</c> names where either part may be a glob
/// (<c>shop.*</c>, <c>*.orders</c>, <c>shop.order_*</c>). An empty list captures every table
/// except the server's own schemas (mysql, sys, information_schema, performance_schema).
/// </summary>
public sealed class TableFilter
{
    private static readonly HashSet<string> SystemSchemas = new(StringComparer.OrdinalIgnoreCase)
    {
        "mysql", "sys", "information_schema", "performance_schema",
    };

    private readonly Regex[] _patterns;
    private readonly Dictionary<(string, string), bool> _cache = new();

    public TableFilter(IEnumerable<string> patterns)
    {
        _patterns = patterns.Select(Compile).ToArray();
        Patterns = patterns.ToArray();
    }

    public static TableFilter All { get; } = new(Array.Empty<string>());

    public IReadOnlyList<string> Patterns { get; }

    public bool Includes(string schema, string table)
    {
        if (_cache.TryGetValue((schema, table), out var included))
        {
            return included;
        }

        var name = schema + "." + table;
        included = _patterns.Length == 0
            ? !SystemSchemas.Contains(schema)
            : _patterns.Any(p => p.IsMatch(name));
        if (_cache.Count < 100_000)
        {
            _cache[(schema, table)] = included;
        }

        return included;
    }

    private static Regex Compile(string pattern)
    {
        var trimmed = pattern.Trim();
        if (trimmed.Length == 0 || !trimmed.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Table pattern '{pattern}' must be <schema>.<table>, either part may use '*' (e.g. shop.*).");
        }

        var regex = "^" + Regex.Escape(trimmed).Replace("\\*", "[^.]*", StringComparison.Ordinal).Replace("\\?", "[^.]", StringComparison.Ordinal) + "$";
        return new Regex(regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}
