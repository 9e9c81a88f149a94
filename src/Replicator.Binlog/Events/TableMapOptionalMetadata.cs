namespace Replicator.Binlog.Events;

/// <summary>
/// The optional metadata fields of a TABLE_MAP event (MySQL 8 and MariaDB 10.5+, binlog_row_metadata).
/// Each member is null when the server did not send it. Per-column arrays are indexed by column
/// ordinal; charset arrays hold a collation id for character columns and 0 elsewhere; ENUM/SET name
/// lists are empty for other columns; geometry types and vector dimensions are 0 for other columns.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
/// </summary>
public sealed record TableMapOptionalMetadata
{
    public static TableMapOptionalMetadata Empty { get; } = new();

    public bool[]? Unsigned { get; init; }

    public int[]? ColumnCollations { get; init; }

    public string[]? ColumnNames { get; init; }

    public string[][]? SetValues { get; init; }

    public string[][]? EnumValues { get; init; }

    public int[]? GeometryTypes { get; init; }

    /// <summary>0-based ordinals of the primary key columns.</summary>
    public int[]? PrimaryKey { get; init; }

    /// <summary>Key prefix lengths parallel to <see cref="PrimaryKey"/> (0 = whole column).</summary>
    public int[]? PrimaryKeyPrefixes { get; init; }

    public int[]? EnumAndSetCollations { get; init; }

    public bool[]? Visible { get; init; }

    public int[]? VectorDimensions { get; init; }
}
