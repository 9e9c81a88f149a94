using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;

namespace Replicator.Binlog.Tests;

/// <summary>
/// Every recorded binlog under tests/fixtures/binlog decodes to what its expected.json says (see
/// PROVENANCE.md there for where each file and each expected value comes from).
/// </summary>
public sealed class BinlogFixtureTests
{
    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var name in FixturePaths.FixtureNames())
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void The_fixture_set_is_found_next_to_the_solution()
    {
        Assert.True(FixturePaths.FixtureNames().Count() >= 11, $"fixtures under {FixturePaths.BinlogRoot}");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Fixture_decodes_to_its_expected_events_and_rows(string fixture)
    {
        using var expected = JsonDocument.Parse(await File.ReadAllTextAsync(FixturePaths.ExpectedFile(fixture)));
        var events = new List<BinlogEvent>();
        await foreach (var e in BinlogFileReader.ReadAsync(FixturePaths.BinlogFile(fixture)))
        {
            events.Add(e);
        }

        CompareEvents(expected.RootElement, events, inner: false, fixture);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Fixture_leaves_no_known_event_type_undecoded(string fixture)
    {
        await foreach (var e in BinlogFileReader.ReadAsync(FixturePaths.BinlogFile(fixture)))
        {
            Assert.IsNotType<UnknownEvent>(e);
            if (e is TransactionPayloadEvent payload)
            {
                Assert.All(payload.Events, inner => Assert.IsNotType<UnknownEvent>(inner));
                Assert.NotEmpty(payload.Events);
            }
        }
    }

    [Fact]
    public async Task Mariadb_full_metadata_gives_names_key_and_charsets()
    {
        // Upstream (rust_mysql_common) asserts these for toddy_test.outbox.
        await foreach (var e in BinlogFileReader.ReadAsync(FixturePaths.BinlogFile("mariadb105-annotate-gtid-fullmeta")))
        {
            if (e is TableMapEvent map)
            {
                Assert.Equal(["id", "topic", "event_type", "event", "created"], map.Schema.Columns.Select(c => c.Name));
                Assert.Equal([0], map.Schema.PrimaryKey);
                Assert.Equal([0, 45, 45, 63, 0], map.Schema.Columns.Select(c => c.Collation));
                Assert.Equal(["BLOB", "JSON", "PROTOBUF"], map.Schema.Columns[2].EnumValues!);
                return;
            }
        }

        Assert.Fail("no TABLE_MAP in the fixture");
    }

    [Fact]
    public async Task Mysql80_invisible_columns_are_marked()
    {
        await foreach (var e in BinlogFileReader.ReadAsync(FixturePaths.BinlogFile("mysql80-invisible-columns")))
        {
            if (e is TableMapEvent map)
            {
                // CREATE TABLE t1 (f1 INT UNSIGNED INVISIBLE, f2 INT UNSIGNED INVISIBLE, f3 INT, f4 TEXT, f5 BLOB, f6 BIGINT UNSIGNED INVISIBLE)
                Assert.Equal([false, false, true, true, true, false], map.Optional.Visible!);
                return;
            }
        }

        Assert.Fail("no TABLE_MAP in the fixture");
    }

    private static void CompareEvents(JsonElement expected, IReadOnlyList<BinlogEvent> actual, bool inner, string where)
    {
        Assert.Equal(expected.GetArrayLength(), actual.Count);
        long innerOffset = 0;
        for (var i = 0; i < actual.Count; i++)
        {
            var e = expected[i];
            var a = actual[i];
            var context = $"{where} event {i} ({e.GetProperty("type").GetString()})";
            Assert.True(TypeName(a.Type) == e.GetProperty("type").GetString(), $"{context}: decoded as {a.Type}");
            Assert.True(e.GetProperty("pos").GetInt64() == (inner ? innerOffset : a.Header.Position), $"{context}: position");
            Assert.Equal(e.GetProperty("size").GetUInt32(), a.Header.EventSize);
            Assert.Equal(e.GetProperty("log_pos").GetUInt32(), a.Header.NextPosition);
            Assert.Equal(e.GetProperty("ts").GetUInt32(), a.Header.Timestamp);
            Assert.Equal(e.GetProperty("server_id").GetUInt32(), a.Header.ServerId);
            innerOffset += a.Header.EventSize;
            CompareBody(e, a, context);
        }
    }

    private static void CompareBody(JsonElement e, BinlogEvent a, string context)
    {
        switch (a)
        {
            case FormatDescriptionEvent fde:
                Assert.Equal(e.GetProperty("server_version").GetString(), fde.ServerVersion);
                Assert.Equal(ChecksumAlgorithm.Crc32, fde.Checksum);
                break;
            case MySqlGtidEvent gtid:
                Assert.Equal(e.GetProperty("gtid_flags").GetInt32(), gtid.Flags);
                Assert.Equal(e.GetProperty("sid").GetString(), gtid.SourceId.ToString("D"));
                Assert.Equal(e.GetProperty("gno").GetInt64(), gtid.TransactionNumber);
                Assert.Equal(e.GetProperty("last_committed").GetInt64(), gtid.LastCommitted);
                Assert.Equal(e.GetProperty("sequence_number").GetInt64(), gtid.SequenceNumber);
                break;
            case QueryEvent query:
                Assert.Equal(e.GetProperty("db").GetString(), query.Schema);
                Assert.Equal(e.GetProperty("query").GetString(), query.Sql);
                break;
            case XidEvent xid:
                Assert.Equal(e.GetProperty("xid").GetUInt64(), xid.Xid);
                break;
            case RotateEvent rotate:
                Assert.Equal(e.GetProperty("position").GetInt64(), rotate.NextPosition);
                Assert.Equal(e.GetProperty("next_file").GetString(), rotate.NextFile);
                break;
            case MariaDbGtidEvent mariaGtid:
                Assert.Equal(e.GetProperty("seq_no").GetUInt64(), mariaGtid.Sequence);
                Assert.Equal(e.GetProperty("domain_id").GetUInt32(), mariaGtid.DomainId);
                Assert.Equal(e.GetProperty("flags2").GetInt32(), mariaGtid.Flags2);
                break;
            case GtidListEvent list:
                Assert.Equal(e.GetProperty("gtid_list").GetArrayLength(), list.Gtids.Count);
                break;
            case AnnotateRowsEvent annotate:
                Assert.Equal(e.GetProperty("query").GetString(), annotate.Sql);
                break;
            case TransactionPayloadEvent payload:
                Assert.Equal(e.GetProperty("compression_type").GetInt32(), payload.CompressionType);
                Assert.Equal(e.GetProperty("uncompressed_size").GetInt64(), payload.UncompressedSize);
                CompareEvents(e.GetProperty("inner_events"), payload.Events, inner: true, context);
                break;
            case TableMapEvent map:
                CompareTableMap(e, map, context);
                break;
            case RowsEvent rows:
                CompareRows(e, rows, context);
                break;
        }
    }

    private static void CompareTableMap(JsonElement e, TableMapEvent map, string context)
    {
        Assert.Equal(e.GetProperty("table").GetString(), $"{map.Database}.{map.Table}");
        Assert.Equal(e.GetProperty("table_id").GetUInt64(), map.TableId);
        var columns = e.GetProperty("columns");
        Assert.Equal(columns.GetArrayLength(), map.ColumnTypes.Length);
        for (var i = 0; i < map.ColumnTypes.Length; i++)
        {
            var c = columns[i];
            var at = $"{context} column {i + 1}";
            Assert.True(c.GetProperty("type").GetString() == TypeName(map.ColumnTypes[i]), $"{at}: type {map.ColumnTypes[i]}");
            var meta = c.GetProperty("meta");
            var expectedMeta = meta.ValueKind switch
            {
                JsonValueKind.Null => 0,
                JsonValueKind.Array => (meta[0].GetInt32() << 8) | meta[1].GetInt32(),
                _ => meta.GetInt32(),
            };
            Assert.True(expectedMeta == map.ColumnMetadata[i], $"{at}: metadata {map.ColumnMetadata[i]} vs {expectedMeta}");
            Assert.Equal(c.GetProperty("unsigned").GetBoolean(), map.Schema.Columns[i].Unsigned);
            var name = c.GetProperty("name");
            Assert.Equal(name.ValueKind == JsonValueKind.Null ? $"@{i + 1}" : name.GetString(), map.Schema.Columns[i].Name);
        }

        var fields = e.GetProperty("optional_metadata_fields").EnumerateArray().Select(f => f.GetInt32()).ToHashSet();
        var optional = map.Optional;
        Assert.Equal(fields.Contains(1), optional.Unsigned is not null);
        Assert.Equal(fields.Contains(2) || fields.Contains(3), optional.ColumnCollations is not null);
        Assert.Equal(fields.Contains(4), optional.ColumnNames is not null);
        Assert.Equal(fields.Contains(5), optional.SetValues is not null);
        Assert.Equal(fields.Contains(6), optional.EnumValues is not null);
        Assert.Equal(fields.Contains(8) || fields.Contains(9), optional.PrimaryKey is not null);
        Assert.Equal(fields.Contains(10) || fields.Contains(11), optional.EnumAndSetCollations is not null);
        Assert.Equal(fields.Contains(12), optional.Visible is not null);

        var enumLists = map.Schema.Columns.Where(c => c.Type == ColumnType.Enum).Select(c => c.EnumValues).ToList();
        var setLists = map.Schema.Columns.Where(c => c.Type == ColumnType.Set).Select(c => c.SetValues).ToList();
        if (e.TryGetProperty("enum_values", out var enums))
        {
            Assert.Equal(enums.EnumerateArray().Select(l => l.EnumerateArray().Select(v => v.GetString()!).ToList()), enumLists.Select(l => l!.ToList()));
        }
        else
        {
            Assert.All(enumLists, l => Assert.Null(l));
        }

        if (e.TryGetProperty("set_values", out var sets))
        {
            Assert.Equal(sets.EnumerateArray().Select(l => l.EnumerateArray().Select(v => v.GetString()!).ToList()), setLists.Select(l => l!.ToList()));
        }
        else
        {
            Assert.All(setLists, l => Assert.Null(l));
        }
    }

    private static void CompareRows(JsonElement e, RowsEvent rows, string context)
    {
        Assert.Equal(e.GetProperty("table").GetString(), rows.Table.ToString());
        var expectedRows = e.GetProperty("rows");
        Assert.Equal(expectedRows.GetArrayLength(), rows.Rows.Count);
        for (var r = 0; r < rows.Rows.Count; r++)
        {
            var expectedRow = expectedRows[r];
            CompareImage(expectedRow, "before", rows.Rows[r].Before, rows.Table, $"{context} row {r + 1} before");
            CompareImage(expectedRow, "after", rows.Rows[r].After, rows.Table, $"{context} row {r + 1} after");
        }
    }

    private static void CompareImage(JsonElement row, string image, ColumnValue[]? actual, TableSchema table, string context)
    {
        if (!row.TryGetProperty(image, out var expected) || expected.ValueKind == JsonValueKind.Null)
        {
            Assert.True(actual is null, $"{context}: unexpected image");
            return;
        }

        Assert.NotNull(actual);
        Assert.Equal(table.Columns.Count, actual.Length);
        for (var i = 0; i < actual.Length; i++)
        {
            var name = table.Columns[i].Name;
            var at = $"{context} {name}";
            if (!expected.TryGetProperty(name, out var value))
            {
                Assert.True(actual[i].IsAbsent, $"{at}: expected absent, got {actual[i].Kind} {actual[i]}");
                continue;
            }

            AssertValue(value, actual[i], at);
        }

        Assert.Equal(expected.EnumerateObject().Count(), actual.Count(v => !v.IsAbsent));
    }

    private static void AssertValue(JsonElement expected, ColumnValue actual, string at)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Null:
                Assert.True(actual.IsNull, $"{at}: expected NULL, got {actual.Kind} {actual}");
                return;
            case JsonValueKind.Number:
                switch (actual.Kind)
                {
                    case ValueKind.Float:
                        Assert.Equal(expected.GetDouble(), (double)actual.AsFloat());
                        return;
                    case ValueKind.Double:
                        Assert.Equal(expected.GetDouble(), actual.AsDouble());
                        return;
                    case ValueKind.Int64 or ValueKind.UInt64 or ValueKind.Year:
                        Assert.True(expected.GetRawText() == actual.ToString(), $"{at}: {actual} vs {expected.GetRawText()}");
                        return;
                    default:
                        Assert.Fail($"{at}: expected number {expected.GetRawText()}, got {actual.Kind} {actual}");
                        return;
                }

            case JsonValueKind.String:
                Assert.True(expected.GetString() == TextOf(actual), $"{at}: {actual.Kind} '{TextOf(actual)}' vs '{expected.GetString()}'");
                return;
            case JsonValueKind.Object:
                AssertObjectValue(expected, actual, at);
                return;
            default:
                Assert.Fail($"{at}: unexpected expected value {expected.GetRawText()}");
                return;
        }
    }

    private static void AssertObjectValue(JsonElement expected, ColumnValue actual, string at)
    {
        if (expected.TryGetProperty("enum_index", out var index))
        {
            Assert.Equal(ValueKind.Enum, actual.Kind);
            Assert.Equal(index.GetInt64(), actual.AsInt64());
            Assert.Equal(expected.TryGetProperty("enum_str", out var name) ? name.GetString() : null, actual.AsString());
        }
        else if (expected.TryGetProperty("set_bits", out var bits))
        {
            Assert.Equal(ValueKind.Set, actual.Kind);
            Assert.Equal(Convert.ToUInt64(bits.GetString()![2..], 2), actual.AsUInt64());
            Assert.Equal(expected.TryGetProperty("set_str", out var names) ? names.GetString() : null, actual.AsString());
        }
        else if (expected.TryGetProperty("bit", out var bit))
        {
            Assert.Equal(ValueKind.Bit, actual.Kind);
            var text = Convert.ToString(unchecked((long)actual.AsUInt64()), 2).PadLeft(actual.Scale, '0');
            Assert.Equal(bit.GetString(), text);
        }
        else if (expected.TryGetProperty("geometry", out var geometry))
        {
            Assert.Equal(ValueKind.Geometry, actual.Kind);
            Assert.Equal(geometry.GetProperty("srid").GetUInt32(), actual.GeometrySrid);
            Assert.Equal(geometry.GetProperty("wkb").GetString(), Convert.ToBase64String(actual.AsBytes()!));
        }
        else if (expected.TryGetProperty("json", out var json))
        {
            Assert.Equal(ValueKind.Json, actual.Kind);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json.GetRawText()), JsonNode.Parse(actual.AsString()!)), $"{at}: {actual.AsString()} vs {json.GetRawText()}");
        }
        else if (expected.TryGetProperty("json_diff", out var diffs))
        {
            Assert.Equal(ValueKind.JsonDiff, actual.Kind);
            var list = actual.AsJsonDiff()!;
            Assert.Equal(diffs.GetArrayLength(), list.Count);
            for (var d = 0; d < list.Count; d++)
            {
                Assert.Equal(diffs[d].GetProperty("op").GetString(), list[d].Operation.ToString().ToUpperInvariant());
                Assert.Equal(diffs[d].GetProperty("path").GetString(), list[d].Path);
                if (diffs[d].TryGetProperty("value", out var value))
                {
                    Assert.True(JsonNode.DeepEquals(JsonNode.Parse(value.GetRawText()), JsonNode.Parse(list[d].ValueJson!)), $"{at}: diff value {list[d].ValueJson}");
                }
                else
                {
                    Assert.Null(list[d].ValueJson);
                }
            }
        }
        else
        {
            Assert.Fail($"{at}: unknown expected convention {expected.GetRawText()}");
        }
    }

    /// <summary>The expected.json text of a value: its conventions for temporals, and bytes as one character a byte.</summary>
    private static string TextOf(ColumnValue value) => value.Kind switch
    {
        ValueKind.Bytes => Encoding.Latin1.GetString(value.AsBytes()!),
        ValueKind.DateTime => value.ToString().Replace('T', ' '),
        ValueKind.Timestamp => value.ToString().Replace('T', ' ').TrimEnd('Z') + " UTC",
        _ => value.ToString(),
    };

    private static string TypeName(BinlogEventType type) => type switch
    {
        BinlogEventType.FormatDescription => "FORMAT_DESCRIPTION",
        BinlogEventType.PreviousGtids => "PREVIOUS_GTIDS",
        BinlogEventType.Gtid => "GTID",
        BinlogEventType.AnonymousGtid => "ANONYMOUS_GTID",
        BinlogEventType.Query => "QUERY",
        BinlogEventType.TableMap => "TABLE_MAP",
        BinlogEventType.Xid => "XID",
        BinlogEventType.WriteRowsV1 => "WRITE_ROWS_V1",
        BinlogEventType.UpdateRowsV1 => "UPDATE_ROWS_V1",
        BinlogEventType.DeleteRowsV1 => "DELETE_ROWS_V1",
        BinlogEventType.WriteRowsV2 => "WRITE_ROWS_V2",
        BinlogEventType.UpdateRowsV2 => "UPDATE_ROWS_V2",
        BinlogEventType.DeleteRowsV2 => "DELETE_ROWS_V2",
        BinlogEventType.PartialUpdateRows => "PARTIAL_UPDATE_ROWS",
        BinlogEventType.Rotate => "ROTATE",
        BinlogEventType.Stop => "STOP",
        BinlogEventType.TransactionPayload => "TRANSACTION_PAYLOAD",
        BinlogEventType.MariaDbGtid => "MARIA_GTID",
        BinlogEventType.GtidList => "MARIA_GTID_LIST",
        BinlogEventType.BinlogCheckpoint => "MARIA_BINLOG_CHECKPOINT",
        BinlogEventType.AnnotateRows => "MARIA_ANNOTATE_ROWS",
        BinlogEventType.QueryCompressed => "MARIA_QUERY_COMPRESSED",
        BinlogEventType.WriteRowsCompressedV1 => "MARIA_WRITE_ROWS_COMPRESSED_V1",
        BinlogEventType.UpdateRowsCompressedV1 => "MARIA_UPDATE_ROWS_COMPRESSED_V1",
        BinlogEventType.DeleteRowsCompressedV1 => "MARIA_DELETE_ROWS_COMPRESSED_V1",
        BinlogEventType.WriteRowsCompressed => "MARIA_WRITE_ROWS_COMPRESSED",
        BinlogEventType.UpdateRowsCompressed => "MARIA_UPDATE_ROWS_COMPRESSED",
        BinlogEventType.DeleteRowsCompressed => "MARIA_DELETE_ROWS_COMPRESSED",
        _ => type.ToString(),
    };

    private static string TypeName(ColumnType type) => type switch
    {
        ColumnType.Tiny => "TINY",
        ColumnType.Short => "SHORT",
        ColumnType.Int24 => "INT24",
        ColumnType.Long => "LONG",
        ColumnType.LongLong => "LONGLONG",
        ColumnType.Float => "FLOAT",
        ColumnType.Double => "DOUBLE",
        ColumnType.NewDecimal => "NEWDECIMAL",
        ColumnType.VarChar => "VARCHAR",
        ColumnType.String => "STRING",
        ColumnType.Blob => "BLOB",
        ColumnType.Json => "JSON",
        ColumnType.Bit => "BIT",
        ColumnType.Year => "YEAR",
        ColumnType.Date => "DATE",
        ColumnType.DateTime2 => "DATETIME2",
        ColumnType.Time2 => "TIME2",
        ColumnType.Timestamp2 => "TIMESTAMP2",
        _ => type.ToString().ToUpper(CultureInfo.InvariantCulture),
    };
}
