using System.Globalization;

namespace Replicator.FaultTests.Harness;

/// <summary>A binlog (file, position), ordered by the file's number, as the admin status prints offsets.</summary>
public readonly record struct BinlogPoint(string File, long Position, int SkipRows) : IComparable<BinlogPoint>
{
    public long FileSequence => long.TryParse(File.AsSpan(File.LastIndexOf('.') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;

    /// <summary>Parses "mariadb-bin.000003:1234", "mariadb-bin.000003:1234+5 rows (gtid 0-1-9)" and the like; null for null or junk.</summary>
    public static BinlogPoint? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var head = text.Split(' ')[0];
        var skip = 0;
        var plus = head.IndexOf('+', StringComparison.Ordinal);
        if (plus > 0)
        {
            skip = int.TryParse(head.AsSpan(plus + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            head = head[..plus];
        }

        var colon = head.LastIndexOf(':');
        return colon > 0 && long.TryParse(head.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var position)
            ? new BinlogPoint(head[..colon], position, skip)
            : null;
    }

    /// <summary>The sequence number of domain 0 in an offset's "(gtid 0-1-9)" (the harness's source writes domain 0 only), or null.</summary>
    public static long? GtidSequence(string? text)
    {
        var at = text?.IndexOf("gtid ", StringComparison.Ordinal) ?? -1;
        if (at < 0)
        {
            return null;
        }

        foreach (var gtid in text![(at + 5)..].TrimEnd(')').Split(','))
        {
            var parts = gtid.Trim().Split('-');
            if (parts.Length == 3 && parts[0] == "0" && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                return sequence;
            }
        }

        return null;
    }

    public int CompareTo(BinlogPoint other)
    {
        var c = FileSequence.CompareTo(other.FileSequence);
        return c != 0 ? c : Position.CompareTo(other.Position);
    }

    public static bool operator >=(BinlogPoint a, BinlogPoint b) => a.CompareTo(b) >= 0;

    public static bool operator <=(BinlogPoint a, BinlogPoint b) => a.CompareTo(b) <= 0;

    public static bool operator >(BinlogPoint a, BinlogPoint b) => a.CompareTo(b) > 0;

    public static bool operator <(BinlogPoint a, BinlogPoint b) => a.CompareTo(b) < 0;

    public override string ToString() => SkipRows > 0 ? $"{File}:{Position}+{SkipRows}" : $"{File}:{Position}";
}
