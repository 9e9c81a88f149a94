using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;

namespace Replicator.Binlog.Parsers;

/// <summary>
/// What the decoder knows of one table id: its TABLE_MAP, the schema in use, and the per-column
/// layouts. The state built from the map alone (<see cref="Base"/>) keeps the map's bytes, so that
/// the identical TABLE_MAP a server writes before every statement is recognised and not decoded again.
/// </summary>
internal sealed class TableState
{
    private readonly byte[] _mapBody;
    private TableState? _lastCompleted;
    private int[]? _allOrdinals;

    private TableState(TableMapEvent map, TableSchema schema, ColumnLayout[] layouts, int[] jsonOrdinals, int jsonColumnCount, byte[] mapBody, TableState? baseState)
    {
        Map = map;
        Schema = schema;
        Layouts = layouts;
        JsonOrdinals = jsonOrdinals;
        JsonColumnCount = jsonColumnCount;
        _mapBody = mapBody;
        Base = baseState ?? this;
    }

    /// <summary>The state built from the TABLE_MAP alone, before any schema source completed it.</summary>
    public TableState Base { get; }

    public TableMapEvent Map { get; }

    public TableSchema Schema { get; }

    public ColumnLayout[] Layouts { get; }

    /// <summary>For each column, its index among the table's JSON columns, or -1 (the partial-update bitmap is indexed so).</summary>
    public int[] JsonOrdinals { get; }

    public int JsonColumnCount { get; }

    public int ColumnCount => Layouts.Length;

    /// <summary>0, 1, … ColumnCount - 1: the present columns of a full row image.</summary>
    public int[] AllOrdinals => Base._allOrdinals ??= Enumerable.Range(0, ColumnCount).ToArray();

    public static TableState Create(TableMapEvent map, ReadOnlySpan<byte> mapBody) => Build(map, map.Schema, mapBody.ToArray(), null);

    /// <summary>Whether <paramref name="mapBody"/> is byte for byte the TABLE_MAP body this state was built from.</summary>
    public bool SameMap(ReadOnlySpan<byte> mapBody) => mapBody.SequenceEqual(_mapBody);

    /// <summary>The same table decoded with another schema, which must describe the map's columns.</summary>
    public TableState WithSchema(TableSchema schema)
    {
        if (Base._lastCompleted is { } last && ReferenceEquals(last.Schema, schema))
        {
            return last;
        }

        var columns = schema.Columns;
        if (columns.Count != Map.ColumnTypes.Length)
        {
            throw new ArgumentException(
                $"The schema of {schema} has {columns.Count} columns but the TABLE_MAP of {Map.Database}.{Map.Table} (id {Map.TableId}) has {Map.ColumnTypes.Length}; the schema is out of date.",
                nameof(schema));
        }

        for (var i = 0; i < columns.Count; i++)
        {
            var (mapType, _) = ColumnLayout.Unpack(Map.ColumnTypes[i], Map.ColumnMetadata[i]);
            if (StorageClass(mapType) != StorageClass(columns[i].Type))
            {
                throw new ArgumentException(
                    $"Column {i + 1} ({columns[i].Name}) of {schema} is {columns[i].Type} in the schema but {mapType} in the TABLE_MAP of table id {Map.TableId}; the schema is out of date.",
                    nameof(schema));
            }
        }

        var completed = Build(Map, schema, _mapBody, Base);
        Base._lastCompleted = completed;
        return completed;
    }

    private static TableState Build(TableMapEvent map, TableSchema schema, byte[] mapBody, TableState? baseState)
    {
        var count = map.ColumnTypes.Length;
        var layouts = new ColumnLayout[count];
        var jsonOrdinals = new int[count];
        var jsonCount = 0;
        for (var i = 0; i < count; i++)
        {
            layouts[i] = ColumnLayout.Create(map.ColumnTypes[i], map.ColumnMetadata[i], schema.Columns[i]);
            jsonOrdinals[i] = layouts[i].Codec == ColumnCodec.Json ? jsonCount++ : -1;
        }

        return new TableState(map, schema, layouts, jsonOrdinals, jsonCount, mapBody, baseState);
    }

    /// <summary>Types that share a storage layout compare equal (the TABLE_MAP says BLOB for every TEXT/BLOB size).</summary>
    private static ColumnType StorageClass(ColumnType type) => type switch
    {
        ColumnType.VarString => ColumnType.VarChar,
        ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob => ColumnType.Blob,
        ColumnType.NewDate => ColumnType.Date,
        _ => type,
    };
}
