using Replicator.Binlog.Events;

namespace Replicator.Binlog.Columns;

/// <summary>
/// Completes what a TABLE_MAP event leaves out (column names, key, charsets, ENUM/SET names) from
/// somewhere else, typically information_schema. Implementations cache per table and drop the
/// cache entry when <see cref="Invalidate"/> is called for a DDL statement on that table.
/// </summary>
public interface ITableSchemaSource
{
    /// <summary>
    /// Returns the table's schema with <paramref name="fromTableMap"/>'s types and whatever the
    /// source adds, or null when the source knows nothing more.
    /// </summary>
    ValueTask<TableSchema?> CompleteAsync(TableMapEvent tableMap, TableSchema fromTableMap, CancellationToken cancellationToken);

    /// <summary>Forgets what is cached for a table (both names null: everything).</summary>
    void Invalidate(string? schema, string? table);
}
