using Replicator.Binlog.Columns;
using Replicator.Model;

namespace Replicator.Engine.Replication;

/// <summary>
/// Coalescing of partial row images (binlog_row_image = MINIMAL or NOBLOB: an update logs only the
/// columns it changed, or leaves unchanged BLOB/TEXT columns out). When a newer change of a pk
/// replaces an older one, the columns only the older image carries are kept in the newer, so
/// <c>SET a = 1</c> then <c>SET b = 2</c> writes both. Pure.
/// </summary>
/// <remarks>
/// Changes can reach a bucket out of version order (a new capture epoch replays changes already
/// applied, a delivery lost with a bucket's node is re-sent after newer ones). So a coalesced
/// change remembers, per column, the version of the change its value came from
/// (<see cref="Coalesced"/>), and the image written at version V carries, for each column, the
/// value of the newest of its coalesced changes that set it: a late older change fills a column
/// only over a still older value, never over a newer one, and nothing from before an insert or a
/// delete among them (a row written after a delete is a new row).
/// </remarks>
public static class PartialImages
{
    /// <summary>One change, not coalesced with any other.</summary>
    public static Coalesced Of(RowChange change) =>
        new(change, null, change.Action == ChangeAction.Update ? null : change.Version, change.Action == ChangeAction.Write);

    /// <summary>
    /// The change to apply for both <paramref name="a"/> and <paramref name="b"/>: the newer by
    /// source version, each column of its image the newest value either carries (see the remarks).
    /// Only an update is filled; an insert followed by updates stays an insert, of the merged image.
    /// </summary>
    public static Coalesced Coalesce(Coalesced a, Coalesced b)
    {
        var (older, newer) = b.Change.Version >= a.Change.Version ? (a, b) : (b, a);
        var (floor, floorIsInsert) = older.Floor is { } olderFloor && (newer.Floor is not { } newerFloor || olderFloor > newerFloor)
            ? (older.Floor, older.FloorIsInsert)
            : (newer.Floor, newer.FloorIsInsert);
        var change = newer.Change;
        if (change.Action == ChangeAction.Delete || change.After is not { } after || newer.Floor == change.Version
            || (newer.ColumnVersions is null && !HasAbsent(after)))
        {
            // Nothing older can reach this image: a delete, an insert, or a full image of its own.
            return newer with { Floor = floor, FloorIsInsert = floorIsInsert };
        }

        var image = older.Change.Action == ChangeAction.Delete ? null : older.Change.After;
        var sameShape = image is not null && (ReferenceEquals(image.Names, after.Names) || image.Names.SequenceEqual(after.Names));
        var values = (ColumnValue[])after.Values.Clone();
        var versions = new SourceVersion[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var version = newer.VersionOf(i);
            if (image is not null)
            {
                // A DDL between the two changes: match columns by name.
                var j = sameShape ? i : IndexOf(image.Names, after.Names[i]);
                if (j >= 0 && !image.Values[j].IsAbsent && (values[i].IsAbsent || older.VersionOf(j) > version))
                {
                    values[i] = image.Values[j];
                    version = older.VersionOf(j);
                }
            }

            if (floor is { } f && version < f)
            {
                values[i] = ColumnValue.Absent;
            }

            versions[i] = version;
        }

        var merged = floorIsInsert && change.Action == ChangeAction.Update
            ? change with { Action = ChangeAction.Write, Before = null, After = new RowData(after.Names, values) }
            : change with { Before = change.Action == ChangeAction.Update ? older.Change.Before ?? change.Before : change.Before, After = new RowData(after.Names, values) };
        return new Coalesced(merged, versions, floor, floorIsInsert);
    }

    /// <summary>True when the image leaves a column out.</summary>
    public static bool HasAbsent(RowData row)
    {
        foreach (var value in row.Values)
        {
            if (value.IsAbsent)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A row read from the source with the columns a change carries laid over it (matched by name):
    /// the row as that change left it, whether the read saw the change's commit or a later one.
    /// </summary>
    public static RowData LaidOver(RowData read, RowData image)
    {
        var sameShape = ReferenceEquals(read.Names, image.Names) || read.Names.SequenceEqual(image.Names, StringComparer.OrdinalIgnoreCase);
        var values = (ColumnValue[])read.Values.Clone();
        for (var i = 0; i < values.Length; i++)
        {
            var carried = sameShape ? image.Values[i] : ValueOf(image, read.Names[i]);
            if (!carried.IsAbsent && carried.Kind != ValueKind.JsonDiff)
            {
                values[i] = carried;
            }
        }

        return new RowData(read.Names, values);
    }

    private static ColumnValue ValueOf(RowData row, string name)
    {
        for (var i = 0; i < row.Count; i++)
        {
            if (string.Equals(row.Names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return row.Values[i];
            }
        }

        return ColumnValue.Absent;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// A change a bucket holds for a pk, coalesced from one or more of its changes: the change to
/// write, and where its image's values came from.
/// </summary>
/// <param name="ColumnVersions">Per column of the image, the version of the change that set its value; null when every value is the change's own.</param>
/// <param name="Floor">The newest insert or delete among the coalesced changes: no change before it may fill a column.</param>
/// <param name="FloorIsInsert">The floor is an insert (so the coalesced change is one too).</param>
public sealed record Coalesced(RowChange Change, SourceVersion[]? ColumnVersions, SourceVersion? Floor, bool FloorIsInsert)
{
    /// <summary>The version of the change that set column <paramref name="index"/>'s value.</summary>
    public SourceVersion VersionOf(int index) => ColumnVersions?[index] ?? Change.Version;
}
