using System.Globalization;

namespace Replicator.Binlog.Positions;

/// <summary>
/// A (file, position) coordinate in the source's binlog. Positions order by the numeric suffix of
/// the file name (<c>mariadb-bin.000012</c>), then by offset.
/// </summary>
public readonly record struct BinlogPosition(string File, long Position) : IComparable<BinlogPosition>
{
    /// <summary>The first event after the 4-byte magic header of a file.</summary>
    public const long FirstEventPosition = 4;

    public static BinlogPosition StartOf(string file) => new(file, FirstEventPosition);

    /// <summary>The numeric suffix of the file name, or -1 when it has none.</summary>
    public long FileSequence => FileSequenceOf(File);

    public static long FileSequenceOf(string file)
    {
        var dot = file.LastIndexOf('.');
        return dot >= 0 && long.TryParse(file.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
    }

    public int CompareTo(BinlogPosition other)
    {
        var bySequence = FileSequence.CompareTo(other.FileSequence);
        if (bySequence != 0)
        {
            return bySequence;
        }

        var byName = string.CompareOrdinal(File, other.File);
        return byName != 0 ? byName : Position.CompareTo(other.Position);
    }

    public static bool operator <(BinlogPosition left, BinlogPosition right) => left.CompareTo(right) < 0;

    public static bool operator >(BinlogPosition left, BinlogPosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(BinlogPosition left, BinlogPosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(BinlogPosition left, BinlogPosition right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{File}:{Position.ToString(CultureInfo.InvariantCulture)}";
}
