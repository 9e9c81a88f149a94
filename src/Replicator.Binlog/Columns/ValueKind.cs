namespace Replicator.Binlog.Columns;

/// <summary>What a <see cref="ColumnValue"/> holds.</summary>
public enum ValueKind : byte
{
    /// <summary>The column is not in this row image (binlog_row_image=MINIMAL or NOBLOB). Not the same as null.</summary>
    Absent = 0,
    Null,
    /// <summary>A signed integer column (TINYINT..BIGINT).</summary>
    Int64,
    /// <summary>An unsigned integer column (TINYINT..BIGINT UNSIGNED).</summary>
    UInt64,
    Float,
    Double,
    /// <summary>DECIMAL, held as its exact text with the column's scale (<c>-12.340</c>).</summary>
    Decimal,
    Year,
    Date,
    DateTime,
    /// <summary>TIMESTAMP: seconds since the Unix epoch in UTC plus microseconds.</summary>
    Timestamp,
    Time,
    /// <summary>CHAR, VARCHAR and TEXT decoded from the column's charset.</summary>
    String,
    /// <summary>BINARY, VARBINARY and BLOB, and text in a charset that cannot be decoded.</summary>
    Bytes,
    Bit,
    Enum,
    Set,
    /// <summary>A JSON document as JSON text.</summary>
    Json,
    /// <summary>GEOMETRY as WKB (the 4-byte SRID prefix MySQL stores is kept apart).</summary>
    Geometry,
    /// <summary>A MySQL 8 partial JSON update (PARTIAL_UPDATE_ROWS): a list of diffs against the before image.</summary>
    JsonDiff,
    /// <summary>MySQL 9 VECTOR: raw little-endian float32 values.</summary>
    Vector,
}
