using System.Globalization;
using System.Text;

namespace Replicator.Binlog.Positions;

/// <summary>
/// A MySQL GTID set, <c>uuid[:tag]:1-5:7,uuid2:1-3</c>, with MySQL 8.4 tags.
/// Intervals are kept sorted and merged; <see cref="Add(Guid, string?, long)"/> returns a new set.
/// https://dev.mysql.com/doc/refman/8.4/en/replication-gtids-concepts.html
/// </summary>
public sealed class MySqlGtidSet : IEquatable<MySqlGtidSet>
{
    private readonly SortedDictionary<MySqlGtidSource, IReadOnlyList<GtidInterval>> _sets;

    public static MySqlGtidSet Empty { get; } = new(new SortedDictionary<MySqlGtidSource, IReadOnlyList<GtidInterval>>());

    private MySqlGtidSet(SortedDictionary<MySqlGtidSource, IReadOnlyList<GtidInterval>> sets) => _sets = sets;

    public IReadOnlyDictionary<MySqlGtidSource, IReadOnlyList<GtidInterval>> Sets => _sets;

    public bool IsEmpty => _sets.Count == 0;

    public static MySqlGtidSet Of(IEnumerable<KeyValuePair<MySqlGtidSource, IReadOnlyList<GtidInterval>>> sets)
    {
        var result = Empty;
        foreach (var (source, intervals) in sets)
        {
            foreach (var interval in intervals)
            {
                result = result.Add(source, interval);
            }
        }

        return result;
    }

    public static MySqlGtidSet Parse(string text)
    {
        var result = Empty;
        foreach (var raw in text.Replace("\n", "", StringComparison.Ordinal).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = raw.Split(':');
            if (parts.Length < 2 || !Guid.TryParse(parts[0], out var uuid))
            {
                throw new FormatException($"'{raw}' is not a GTID set entry; expected uuid[:tag]:start[-end][:…].");
            }

            string? tag = null;
            foreach (var part in parts.AsSpan(1))
            {
                var dash = part.IndexOf('-', StringComparison.Ordinal);
                var isNumeric = part.Length > 0 && char.IsAsciiDigit(part[0]);
                if (!isNumeric)
                {
                    tag = part.ToLowerInvariant();
                    continue;
                }

                var start = long.Parse(dash < 0 ? part : part[..dash], NumberStyles.None, CultureInfo.InvariantCulture);
                var end = dash < 0 ? start : long.Parse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
                if (start < 1 || end < start)
                {
                    throw new FormatException($"'{part}' in '{raw}' is not a valid GTID interval.");
                }

                result = result.Add(new MySqlGtidSource(uuid, tag), new GtidInterval(start, end + 1));
            }
        }

        return result;
    }

    public MySqlGtidSet Add(Guid sourceId, string? tag, long transactionNumber) =>
        Add(new MySqlGtidSource(sourceId, tag), new GtidInterval(transactionNumber, transactionNumber + 1));

    public MySqlGtidSet Add(MySqlGtidSource source, GtidInterval interval)
    {
        var merged = new List<GtidInterval>();
        if (_sets.TryGetValue(source, out var existing))
        {
            merged.AddRange(existing);
        }

        merged.Add(interval);
        merged.Sort((a, b) => a.Start.CompareTo(b.Start));
        var compact = new List<GtidInterval>(merged.Count);
        foreach (var next in merged)
        {
            if (compact.Count > 0 && next.Start <= compact[^1].End)
            {
                var last = compact[^1];
                compact[^1] = new GtidInterval(last.Start, Math.Max(last.End, next.End));
            }
            else
            {
                compact.Add(next);
            }
        }

        return new MySqlGtidSet(new SortedDictionary<MySqlGtidSource, IReadOnlyList<GtidInterval>>(_sets) { [source] = compact });
    }

    public bool Contains(Guid sourceId, string? tag, long transactionNumber) =>
        _sets.TryGetValue(new MySqlGtidSource(sourceId, tag), out var intervals)
        && intervals.Any(i => transactionNumber >= i.Start && transactionNumber < i.End);

    public override string ToString()
    {
        var sb = new StringBuilder();
        Guid? previous = null;
        foreach (var (source, intervals) in _sets)
        {
            if (previous == source.SourceId)
            {
                sb.Append(':').Append(source.Tag);
            }
            else
            {
                if (sb.Length > 0)
                {
                    sb.Append(',');
                }

                sb.Append(source.SourceId.ToString("D"));
                if (source.Tag is not null)
                {
                    sb.Append(':').Append(source.Tag);
                }
            }

            previous = source.SourceId;
            foreach (var interval in intervals)
            {
                sb.Append(':').Append(interval.Start.ToString(CultureInfo.InvariantCulture));
                if (interval.End - 1 != interval.Start)
                {
                    sb.Append('-').Append((interval.End - 1).ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        return sb.ToString();
    }

    public bool Equals(MySqlGtidSet? other) => other is not null && ToString() == other.ToString();

    public override bool Equals(object? obj) => Equals(obj as MySqlGtidSet);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
