using Replicator.Engine.Model;

namespace Replicator.Engine.Replication;

/// <summary>
/// Reads rows as they are now at the source, for changes whose own image cannot be written as it
/// is: an insert logged without its defaulted columns (binlog_row_image = MINIMAL), or a retried
/// dead letter, whose image may be long out of date.
/// </summary>
public interface ICurrentRows
{
    /// <summary>The current full rows of these pks of one table, by canonical key; a pk whose row is gone is left out.</summary>
    Task<IReadOnlyDictionary<string, RowData>> ReadAsync(string schema, string table, IReadOnlyList<RowKey> keys, CancellationToken cancellationToken);
}
