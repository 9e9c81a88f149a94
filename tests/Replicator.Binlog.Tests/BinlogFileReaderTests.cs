using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;

namespace Replicator.Binlog.Tests;

/// <summary>Reading binlog files from disk.</summary>
public sealed class BinlogFileReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("replicator-binlog-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static async Task<List<BinlogEvent>> ReadAll(string path, ITableSchemaSource? source = null)
    {
        var events = new List<BinlogEvent>();
        await foreach (var e in BinlogFileReader.ReadAsync(path, source))
        {
            events.Add(e);
        }

        return events;
    }

    [Fact]
    public async Task A_file_without_the_magic_header_is_refused()
    {
        var path = Write("not-a-binlog.000001", "hello world"u8.ToArray());
        var error = await Assert.ThrowsAsync<BinlogFormatException>(() => ReadAll(path));
        Assert.Equal("not-a-binlog.000001", error.File);
        Assert.Equal(0, error.Position);
    }

    [Fact]
    public async Task An_empty_binlog_after_the_magic_has_no_events()
    {
        var path = Write("empty-bin.000001", [0xFE, (byte)'b', (byte)'i', (byte)'n']);
        Assert.Empty(await ReadAll(path));
    }

    [Fact]
    public async Task A_file_cut_inside_an_event_throws_naming_where_the_event_starts()
    {
        var b = new EventBuilder();
        var bytes = Bytes.Concat([0xFE, (byte)'b', (byte)'i', (byte)'n'], b.FormatDescription());
        var xidStart = b.Position;
        bytes = Bytes.Concat(bytes, b.Xid(1)[..20]);
        var path = Write("cut-bin.000001", bytes);
        var error = await Assert.ThrowsAsync<BinlogFormatException>(() => ReadAll(path));
        Assert.Equal(xidStart, error.Position);
        Assert.Contains("ends inside", error.Message);
    }

    [Fact]
    public async Task A_file_cut_inside_an_event_header_throws()
    {
        var b = new EventBuilder();
        var path = Write("cut-bin.000002", Bytes.Concat([0xFE, (byte)'b', (byte)'i', (byte)'n'], b.FormatDescription(), [1, 2, 3]));
        await Assert.ThrowsAsync<BinlogFormatException>(() => ReadAll(path));
    }

    [Fact]
    public async Task Events_come_back_in_file_order_with_their_positions()
    {
        var b = new EventBuilder();
        var path = Write("ok-bin.000001", Bytes.Concat([0xFE, (byte)'b', (byte)'i', (byte)'n'], b.FormatDescription(), b.Query("", "BEGIN"), b.Xid(3), b.Rotate("ok-bin.000002")));
        var events = await ReadAll(path);
        Assert.Equal([BinlogEventType.FormatDescription, BinlogEventType.Query, BinlogEventType.Xid, BinlogEventType.Rotate], events.Select(e => e.Type));
        Assert.Equal(4, events[0].Header.Position);
        Assert.All(events, e => Assert.Equal("ok-bin.000001", e.File));
        Assert.Equal(new FileInfo(path).Length, events[^1].Header.NextPosition);
    }

    [Fact]
    public async Task The_schema_source_is_awaited_after_each_table_map_and_its_schema_used()
    {
        var source = new NamingSource();
        var events = await ReadAll(FixturePaths.BinlogFile("mysql80-json-partial-update"), source);
        Assert.Equal(6, source.Calls);
        var maps = events.OfType<TableMapEvent>().ToList();
        Assert.All(maps, m => Assert.Equal(["id", "json_col", "name", "age"], m.Schema.Columns.Select(c => c.Name)));
        var rows = events.OfType<RowsEvent>().ToList();
        Assert.All(rows, r => Assert.Equal("json_col", r.Table.Columns[1].Name));
        Assert.All(rows, r => Assert.Equal([0], r.Table.PrimaryKey));
    }

    [Fact]
    public async Task The_schema_source_also_completes_table_maps_inside_a_transaction_payload()
    {
        var source = new NamingSource();
        var events = await ReadAll(FixturePaths.BinlogFile("mysql80-txn-compression-insert"), source);
        Assert.Equal(1, source.Calls);
        var payload = Assert.Single(events.OfType<TransactionPayloadEvent>());
        var rows = Assert.Single(payload.Events.OfType<RowsEvent>());
        Assert.Equal("id", rows.Table.Columns[0].Name);
    }

    [Fact]
    public async Task An_encrypted_mariadb_binlog_is_refused_at_its_start_encryption_event()
    {
        var b = new EventBuilder(serverVersion: "10.11.6-MariaDB-log");
        var fde = b.FormatDescription();
        var start = b.Position;
        var path = Write("enc-bin.000001", Bytes.Concat([0xFE, (byte)'b', (byte)'i', (byte)'n'], fde, b.Event(BinlogEventType.StartEncryption, new byte[17])));
        var error = await Assert.ThrowsAsync<BinlogFormatException>(() => ReadAll(path));
        Assert.Equal(start, error.Position);
        Assert.Contains("encrypted", error.Message);
    }

    [Fact]
    public async Task A_schema_source_that_contradicts_the_table_map_stops_decoding()
    {
        var b = new EventBuilder();
        var path = Write("bad-schema-bin.000001", Bytes.Concat(
            [0xFE, (byte)'b', (byte)'i', (byte)'n'],
            b.FormatDescription(),
            b.TableMap(4, "shop", "t", [Replicator.Binlog.Columns.ColumnType.Long], [])));
        var error = await Assert.ThrowsAsync<BinlogFormatException>(() => ReadAll(path, new WrongSource()));
        Assert.Contains("does not fit its TABLE_MAP", error.Message);
    }

    private sealed class WrongSource : ITableSchemaSource
    {
        public ValueTask<TableSchema?> CompleteAsync(TableMapEvent tableMap, TableSchema fromTableMap, CancellationToken cancellationToken) =>
            ValueTask.FromResult<TableSchema?>(new TableSchema("shop", "t", [new ColumnDefinition("a", ColumnType.Long, 0, false), new ColumnDefinition("b", ColumnType.Long, 0, false)], []));

        public void Invalidate(string? schema, string? table)
        {
        }
    }

    private sealed class NamingSource : ITableSchemaSource
    {
        private static readonly string[] Names = ["id", "json_col", "name", "age"];

        public int Calls { get; private set; }

        public ValueTask<TableSchema?> CompleteAsync(TableMapEvent tableMap, TableSchema fromTableMap, CancellationToken cancellationToken)
        {
            Calls++;
            var columns = fromTableMap.Columns.Select((c, i) => c with { Name = Names[i] }).ToArray();
            return ValueTask.FromResult<TableSchema?>(new TableSchema(fromTableMap.Schema, fromTableMap.Table, columns, [0]));
        }

        public void Invalidate(string? schema, string? table)
        {
        }
    }
}
