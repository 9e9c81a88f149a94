using Replicator.Binlog.Columns;
using Replicator.Engine.Model;

namespace Replicator.Engine.Replication;

/// <summary>
/// Coalescing of partial row images (binlog_row_image = MINIMAL or NOBLOB: an update logs only the
/// columns it changed, or leaves unchanged BLOB/TEXT columns out). When a newer change of a pk
/// replaces an older one, the columns only the older image carries are kept in the newer, so
/// <c>SET a = 1</c> then <c>SET b = 2</c> writes both. Pure.
/// </summary>
public static class PartialImages
{
    /// <summary>
    /// The change to apply for both <paramref name="older"/> and <paramref name="newer"/> (newer by
    /// source version): <paramref name="newer"/>, its absent columns filled from the older image.
    /// Only an update is filled, and never across a delete (a row written after a delete is a new
    /// row). An insert followed by an update stays an insert, of the merged image.
    /// </summary>
    public static RowChange Coalesce(RowChange older, RowChange newer)
    {
        if (newer.Action != ChangeAction.Update || older.Action == ChangeAction.Delete || newer.After is not { } after || older.Image is not { } image || !HasAbsent(after))
        {
            return newer;
        }

        var merged = Fill(after, image);
        return older.Action == ChangeAction.Write
            ? newer with { Action = ChangeAction.Write, Before = null, After = merged }
            : newer with { Before = older.Before ?? newer.Before, After = merged };
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

    private static RowData Fill(RowData newer, RowData older)
    {
        var sameShape = ReferenceEquals(newer.Names, older.Names) || newer.Names.SequenceEqual(older.Names);
        var values = (ColumnValue[])newer.Values.Clone();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].IsAbsent)
            {
                // A DDL between the two changes: match columns by name.
                values[i] = sameShape ? older.Values[i] : older[newer.Names[i]];
            }
        }

        return new RowData(newer.Names, values);
    }
}
