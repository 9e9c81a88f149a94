using Replicator.Binlog.Columns;
using Replicator.Model;

namespace Replicator.Engine.Tests;

/// <summary>Builds row changes for tests: table shop.t(id, v).</summary>
internal static class TestChanges
{
    public static readonly string[] Names = ["id", "v"];

    public static RowChange Write(long id, long v, long position, int row = 0) =>
        Change(ChangeAction.Write, id, null, Row(id, v), position, row);

    public static RowChange Update(long id, long before, long after, long position, int row = 0) =>
        Change(ChangeAction.Update, id, Row(id, before), Row(id, after), position, row);

    public static RowChange Delete(long id, long v, long position, int row = 0) =>
        Change(ChangeAction.Delete, id, Row(id, v), null, position, row);

    public static RowKey Key(long id) => new(["id"], [ColumnValue.FromInt64(id)]);

    public static RowData Row(long id, long v) => new(Names, [ColumnValue.FromInt64(id), ColumnValue.FromInt64(v)]);

    private static RowChange Change(ChangeAction action, long id, RowData? before, RowData? after, long position, int row) =>
        new("src", "shop", "t", action, Key(id), before, after,
            new ChangePosition("mariadb-bin.000001", position, null),
            new SourceVersion(1, position, row),
            new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
}
