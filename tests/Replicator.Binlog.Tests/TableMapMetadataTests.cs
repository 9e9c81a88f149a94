using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using static Replicator.Binlog.Tests.Bytes;

namespace Replicator.Binlog.Tests;

/// <summary>TABLE_MAP optional metadata (binlog_row_metadata=FULL) and the schema built from it.</summary>
public sealed class TableMapMetadataTests
{
    // CREATE TABLE t (id BIGINT UNSIGNED, name VARCHAR(10) utf8mb4, note TEXT latin1, kind ENUM('a','b'),
    //   tags SET('x','y'), amount DECIMAL(10,2), shape GEOMETRY, emb VECTOR(3), secret INT INVISIBLE,
    //   PRIMARY KEY (id, name(4)))
    private static readonly ColumnType[] Types =
    [
        ColumnType.LongLong, ColumnType.VarChar, ColumnType.Blob, ColumnType.String, ColumnType.String,
        ColumnType.NewDecimal, ColumnType.Geometry, ColumnType.Vector, ColumnType.Long,
    ];

    private static readonly byte[] Metadata = Concat(
        U16(40),          // name VARCHAR(10) utf8mb4: 40 bytes
        [2],              // note TEXT: 2 length bytes
        [0xF7, 1],        // kind: ENUM, 1 byte
        [0xF8, 1],        // tags: SET, 1 byte
        [10, 2],          // amount DECIMAL(10,2)
        [4],              // shape: 4 length bytes
        [4]);             // emb: 4 length bytes

    private static byte[] FullMetadata(bool columnCharset) => Concat(
        // SIGNEDNESS over the numeric columns id, amount, secret: id unsigned -> 100xxxxx
        MetadataField(1, [0b1000_0000]),
        columnCharset
            ? MetadataField(3, Concat(Packed(45), Packed(8)))                       // COLUMN_CHARSET: name utf8mb4_general_ci, note latin1_swedish_ci
            : MetadataField(2, Concat(Packed(255), Packed(1), Packed(8))),          // DEFAULT_CHARSET 255, character column #1 (note) is 8
        MetadataField(4, Concat(PackedString("id"), PackedString("name"), PackedString("note"), PackedString("kind"), PackedString("tags"),
            PackedString("amount"), PackedString("shape"), PackedString("emb"), PackedString("secret"))),
        MetadataField(5, Concat(Packed(2), PackedString("x"), PackedString("y"))),  // SET_STR_VALUE
        MetadataField(6, Concat(Packed(2), PackedString("a"), PackedString("b"))),  // ENUM_STR_VALUE
        MetadataField(7, Packed(1)),                                                // GEOMETRY_TYPE: POINT
        MetadataField(9, Concat(Packed(0), Packed(0), Packed(1), Packed(4))),       // PRIMARY_KEY_WITH_PREFIX: (id, 0), (name, 4)
        MetadataField(10, Packed(224)),                                             // ENUM_AND_SET_DEFAULT_CHARSET: utf8mb4_unicode_ci
        MetadataField(12, [0b1111_1111, 0b0000_0000]),                              // COLUMN_VISIBILITY: secret invisible
        MetadataField(13, Packed(3)),                                               // VECTOR_DIMENSIONALITY: emb is 3
        MetadataField(99, [1, 2, 3]));                                              // a field from a future server: skipped

    private static TableMapEvent Decode(byte[] optional)
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        return Assert.IsType<TableMapEvent>(decoder.Decode(b.TableMap(77, "db", "t", Types, Metadata, [0xFE, 0x01], optional), EventBuilder.File));
    }

    [Fact]
    public void Full_metadata_names_every_column_and_its_key()
    {
        var map = Decode(FullMetadata(columnCharset: false));
        Assert.Equal(["id", "name", "note", "kind", "tags", "amount", "shape", "emb", "secret"], map.Schema.Columns.Select(c => c.Name));
        Assert.True(map.Schema.HasColumnNames);
        Assert.Equal([0, 1], map.Schema.PrimaryKey);
        Assert.Equal([0, 4], map.Optional.PrimaryKeyPrefixes!);
        Assert.Equal(77UL, map.TableId);
        Assert.Equal("db", map.Database);
    }

    [Fact]
    public void Signedness_applies_to_numeric_columns_in_order()
    {
        var map = Decode(FullMetadata(columnCharset: false));
        Assert.True(map.Schema.Columns[0].Unsigned);
        Assert.False(map.Schema.Columns[5].Unsigned);
        Assert.False(map.Schema.Columns[8].Unsigned);
    }

    [Fact]
    public void Default_charset_with_exceptions_expands_per_character_column()
    {
        var map = Decode(FullMetadata(columnCharset: false));
        Assert.Equal(255, map.Schema.Columns[1].Collation);   // name: the default
        Assert.Equal(8, map.Schema.Columns[2].Collation);     // note: the exception
        Assert.Equal(224, map.Schema.Columns[3].Collation);   // kind: ENUM_AND_SET_DEFAULT_CHARSET
        Assert.Equal(0, map.Schema.Columns[0].Collation);     // id: not a character column
    }

    [Fact]
    public void Column_charset_lists_one_collation_per_character_column()
    {
        var map = Decode(FullMetadata(columnCharset: true));
        Assert.Equal(45, map.Schema.Columns[1].Collation);
        Assert.Equal(8, map.Schema.Columns[2].Collation);
    }

    [Fact]
    public void Enum_and_set_names_types_and_dimensions_are_kept()
    {
        var map = Decode(FullMetadata(columnCharset: false));
        Assert.Equal(ColumnType.Enum, map.Schema.Columns[3].Type);
        Assert.Equal(["a", "b"], map.Schema.Columns[3].EnumValues!);
        Assert.Equal(ColumnType.Set, map.Schema.Columns[4].Type);
        Assert.Equal(["x", "y"], map.Schema.Columns[4].SetValues!);
        Assert.Equal(1, map.Optional.GeometryTypes![6]);
        Assert.Equal(3, map.Optional.VectorDimensions![7]);
        Assert.Equal([true, true, true, true, true, true, true, true, false], map.Optional.Visible!);
    }

    [Fact]
    public void Map_metadata_unpacks_lengths_and_decimal_shape()
    {
        var map = Decode([]);
        Assert.Equal(40, map.Schema.Columns[1].Metadata);
        Assert.Equal((10 << 8) | 2, map.Schema.Columns[5].Metadata);
        Assert.Equal(1, map.Schema.Columns[3].Metadata);
        Assert.Equal([false, true, true, true, true, true, true, true, true], map.Nullable);
    }

    [Fact]
    public void Without_optional_metadata_columns_are_numbered_from_one()
    {
        var map = Decode([]);
        Assert.Equal("@1", map.Schema.Columns[0].Name);
        Assert.Equal("@9", map.Schema.Columns[8].Name);
        Assert.Empty(map.Schema.PrimaryKey);
        Assert.Null(map.Optional.ColumnNames);
    }

    [Fact]
    public void Simple_primary_key_lists_ordinals()
    {
        var map = Decode(MetadataField(8, Concat(Packed(0), Packed(5))));
        Assert.Equal([0, 5], map.Schema.PrimaryKey);
    }

    [Fact]
    public void Rows_use_the_enum_names_and_charsets_of_the_map()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        decoder.Decode(b.TableMap(77, "db", "t", Types, Metadata, [0xFE, 0x01], FullMetadata(columnCharset: false)), EventBuilder.File);
        // id=1, name='Zoë', note=x'E9' (latin1 'é'), kind='b', tags='x,y', amount=1.50, shape/emb/secret NULL
        var row = Concat(
            [0b1100_0000, 0b0000_0001],
            U64(1),
            [4], Utf8("Zoë"),
            U16(1), [0xE9],
            [2],
            [3],
            [0x80, 0x00, 0x00, 0x01, 0x32]);
        var rows = Assert.IsType<RowsEvent>(decoder.Decode(b.Rows(BinlogEventType.WriteRowsV2, 77, 9, row), EventBuilder.File));
        var after = rows.Rows[0].After!;
        Assert.Equal(1UL, after[0].AsUInt64());
        Assert.Equal("Zoë", after[1].AsString());
        Assert.Equal("é", after[2].AsString());
        Assert.Equal("b", after[3].AsString());
        Assert.Equal("x,y", after[4].AsString());
        Assert.Equal("1.50", after[5].AsString());
        Assert.True(after[6].IsNull && after[7].IsNull && after[8].IsNull);
    }

    [Theory]
    [InlineData(ColumnType.String, new byte[] { 0xF7, 3 })]   // ENUM with a 3-byte index
    [InlineData(ColumnType.Blob, new byte[] { 5 })]           // BLOB with 5 length bytes
    [InlineData(ColumnType.NewDecimal, new byte[] { 66, 2 })] // DECIMAL(66,2)
    [InlineData(ColumnType.Time2, new byte[] { 7 })]          // TIME(7)
    public void Metadata_no_server_writes_is_refused_at_the_table_map(ColumnType type, byte[] metadata)
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var start = b.Position;
        var error = Assert.Throws<Replicator.Binlog.Parsers.BinlogFormatException>(() => decoder.Decode(b.TableMap(1, "db", "t", [type], metadata), EventBuilder.File));
        Assert.Equal(start, error.Position);
    }

    [Fact]
    public void A_metadata_block_with_bytes_left_over_is_malformed()
    {
        var b = new EventBuilder();
        var decoder = b.StartDecoder();
        var map = b.TableMap(1, "db", "t", [ColumnType.Long], [0x01]);
        Assert.Throws<Replicator.Binlog.Parsers.BinlogFormatException>(() => decoder.Decode(map, EventBuilder.File));
    }
}
