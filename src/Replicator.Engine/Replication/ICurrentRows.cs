using Replicator.Model;

namespace Replicator.Engine.Replication;

/// <summary>
/// Reads rows as they are now at the source, for changes whose own image cannot be written as it
/// is: an insert logged without its defaulted columns (binlog_row_image = MINIMAL), or a retried
/// dead letter, whose image may be long out of date.
/// </summary>
public interface ICurrentRows
{
    /// <summary>The current full rows of these pks of one table, by canonical key; a pk whose row is gone is left out.</summary>
    /// <param name="currentColumns">The column names of the newest change captured for the table (its image's): when they differ from the columns the reader holds, a DDL came since and it reads the table's columns again.</param>
    Task<IReadOnlyDictionary<string, RowData>> ReadAsync(string schema, string table, IReadOnlyList<RowKey> keys, IReadOnlyList<string>? currentColumns, CancellationToken cancellationToken);
}
