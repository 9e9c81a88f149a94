using System.Text;
using Replicator.Binlog.Columns;

namespace Replicator.Model;

/// <summary>
/// The primary key of a row: its column names and values, and one canonical text built from the
/// values' event-format text (<see cref="ColumnValue.ToString"/>), joined by ':' with ':' and '\'
/// escaped. The canonical text is stable across processes and versions: it is what the bucket hash
/// and the sink keys are computed from.
/// </summary>
public sealed class RowKey : IEquatable<RowKey>
{
    private string? _canonical;
    private int _hash;
    private bool _hashed;

    public RowKey(IReadOnlyList<string> names, ColumnValue[] values)
    {
        Names = names;
        Values = values;
    }

    public IReadOnlyList<string> Names { get; }

    public ColumnValue[] Values { get; }

    /// <summary>The key as one string (values joined by ':', escaped), built when first asked for.</summary>
    public string Canonical => _canonical ??= BuildCanonical(Values);

    private static string BuildCanonical(ColumnValue[] values)
    {
        if (values.Length == 1)
        {
            return Escape(values[0].ToString());
        }

        var sb = new StringBuilder();
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(':');
            }

            sb.Append(Escape(values[i].ToString()));
        }

        return sb.ToString();
    }

    private static string Escape(string text) =>
        text.AsSpan().IndexOfAny(':', '\\') < 0 ? text : text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);

    public bool Equals(RowKey? other) => other is not null && Canonical == other.Canonical;

    public override bool Equals(object? obj) => Equals(obj as RowKey);

    /// <summary>The canonical text's hash, computed once: a key is looked up several times on its way through a bucket.</summary>
    public override int GetHashCode()
    {
        if (!_hashed)
        {
            _hash = Canonical.GetHashCode(StringComparison.Ordinal);
            _hashed = true;
        }

        return _hash;
    }

    public override string ToString() => Canonical;
}
