namespace Replicator.Binlog.Columns;

/// <summary>The cell encodings a rows event uses, one per storage layout.</summary>
internal enum ColumnCodec : byte
{
    Unsupported,
    Null,
    Int8,
    Int16,
    Int24,
    Int32,
    Int64,
    Float,
    Double,
    NewDecimal,
    Year,
    Date,
    Time,
    DateTime,
    Timestamp,
    Time2,
    DateTime2,
    Timestamp2,
    Bit,
    Enum,
    Set,
    VarString,
    FixedString,
    Blob,
    Json,
    Geometry,
    Vector,
}
