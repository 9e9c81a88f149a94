namespace Replicator.Binlog.Columns;

/// <summary>The operation of one entry in a MySQL 8 partial JSON update (<c>enum_json_diff_operation</c>).</summary>
public enum JsonDiffOperation : byte
{
    Replace = 0,
    Insert = 1,
    Remove = 2,
}

/// <summary>
/// One entry of a partial JSON update: <c>JSON_SET</c>/<c>JSON_REPLACE</c>/<c>JSON_REMOVE</c> on a path.
/// <see cref="ValueJson"/> is the new value as JSON text, null for <see cref="JsonDiffOperation.Remove"/>.
/// </summary>
public sealed record JsonDiff(JsonDiffOperation Operation, string Path, string? ValueJson);
