namespace Replicator.Binlog.Columns;

/// <summary>
/// One column of a captured table, as far as it is known: the TABLE_MAP always gives the type and
/// its metadata; names, signedness, charsets and ENUM/SET names come from the optional metadata
/// (<c>binlog_row_metadata=FULL</c>) or from information_schema.
/// </summary>
/// <param name="Name">The column name, or <c>@N</c> (1-based) when no name is known, as mysqlbinlog shows it.</param>
/// <param name="Type">The type code of the TABLE_MAP (for ENUM/SET/STRING this is the real type after unpacking the metadata).</param>
/// <param name="Metadata">
/// The per-type metadata of the TABLE_MAP, unpacked: the byte length of CHAR/VARCHAR, the pack
/// length of ENUM/SET, the length bytes of BLOB/TEXT/JSON/GEOMETRY, precision &lt;&lt; 8 | scale of
/// DECIMAL, the width in bits of BIT, the fractional digits of TIME2/DATETIME2/TIMESTAMP2. For the
/// pre-5.6 TIME/DATETIME/TIMESTAMP types a schema source may set the fractional digits (MariaDB's
/// old "hires" format, whose width the TABLE_MAP does not give).
/// </param>
/// <param name="Unsigned">True for an UNSIGNED numeric column.</param>
/// <param name="Collation">The collation id for character columns (63 = binary), 0 when unknown.</param>
/// <param name="EnumValues">The names of an ENUM column in order, when known.</param>
/// <param name="SetValues">The names of a SET column in bit order, when known.</param>
/// <param name="IsJson">True when the column holds JSON (MySQL's binary JSON, or MariaDB's JSON alias of LONGTEXT).</param>
public sealed record ColumnDefinition(
    string Name,
    ColumnType Type,
    int Metadata,
    bool Nullable,
    bool Unsigned = false,
    int Collation = 0,
    IReadOnlyList<string>? EnumValues = null,
    IReadOnlyList<string>? SetValues = null,
    bool IsJson = false);
