using Replicator.Binlog.Columns;

namespace Replicator.Binlog.Events;

/// <summary>
/// One row of a rows event. <see cref="Before"/> is null for a write, <see cref="After"/> for a
/// delete. Arrays are indexed by column ordinal; a column left out of a partial image
/// (binlog_row_image=MINIMAL/NOBLOB) is <see cref="ColumnValue.Absent"/>.
/// </summary>
public readonly record struct RowImage(ColumnValue[]? Before, ColumnValue[]? After);
