using System.Diagnostics;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// BinlogClient from connection to decoded rows: real MariaDB, the network client and the event
/// decoder together. These need the decoder (BinlogEventDecoder) to be implemented.
/// </summary>
[Collection(NetworkThrowawayCollection.Name)]
public sealed class BinlogClientEndToEndTests
{
    private const string Database = "nettest_e2e";

    private readonly NetworkThrowawayServerFixture _fixture;

    public BinlogClientEndToEndTests(NetworkThrowawayServerFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Inserts_updates_and_deletes_come_back_as_rows_events_with_their_values()
    {
        var before = await PrepareItemsAsync("items_rows");
        await NetworkTestEnvironment.AdminAsync(
            $"INSERT INTO {Database}.items_rows VALUES (1, 'apple', 5), (2, 'pear', NULL)",
            $"UPDATE {Database}.items_rows SET name = 'APPLE', qty = 18446744073709551615 WHERE id = 1",
            $"DELETE FROM {Database}.items_rows WHERE id = 2");

        await using var client = new BinlogClient(NetworkTestEnvironment.Cdc(2601) with { Start = StartPosition.At(before), Blocking = false });
        var events = await ReadAllAsync(client);

        var rows = events.OfType<RowsEvent>().Where(r => r.Table.Table == "items_rows").ToList();
        Assert.Equal([RowsEventKind.Write, RowsEventKind.Update, RowsEventKind.Delete], rows.Select(r => r.Kind));

        var table = rows[0].Table;
        Assert.Equal(Database, table.Schema);
        Assert.Equal(["id", "name", "qty"], table.Columns.Select(c => c.Name));
        Assert.Equal([0], table.PrimaryKey);

        var inserted = rows[0].Rows;
        Assert.Equal(2, inserted.Count);
        Assert.Null(inserted[0].Before);
        Assert.Equal(1, inserted[0].After![0].AsInt64());
        Assert.Equal("apple", inserted[0].After![1].AsString());
        Assert.Equal(5UL, inserted[0].After![2].AsUInt64());
        Assert.True(inserted[1].After![2].IsNull);

        var updated = Assert.Single(rows[1].Rows);
        Assert.Equal("apple", updated.Before![1].AsString());
        Assert.Equal("APPLE", updated.After![1].AsString());
        Assert.Equal(ulong.MaxValue, updated.After![2].AsUInt64());

        var deleted = Assert.Single(rows[2].Rows);
        Assert.Null(deleted.After);
        Assert.Equal(2, deleted.Before![0].AsInt64());
    }

    [Fact]
    public async Task The_stream_starts_with_the_fake_rotate_and_the_position_follows_the_events()
    {
        var before = await PrepareItemsAsync("items_position");
        await NetworkTestEnvironment.AdminAsync($"INSERT INTO {Database}.items_position VALUES (1, 'one', 1)");

        await using var client = new BinlogClient(NetworkTestEnvironment.Cdc(2602) with { Start = StartPosition.At(before), Blocking = false });
        var events = await ReadAllAsync(client);

        var rotate = Assert.IsType<RotateEvent>(events[0]);
        Assert.True(rotate.Header.IsArtificial);
        Assert.Equal(before.File, rotate.NextFile);
        Assert.Equal(before.Position, rotate.NextPosition);
        Assert.IsType<FormatDescriptionEvent>(events[1]);
        Assert.All(events.Skip(1), e => Assert.Equal(before.File, e.File));
        Assert.Contains(events, e => e is XidEvent);
        Assert.True(client.Server!.IsMariaDb);
        var last = events.Last(e => e.Header.NextPosition != 0 && !e.Header.IsArtificial);
        Assert.Equal(new BinlogPosition(before.File, last.Header.NextPosition), client.Position);
    }

    [Fact]
    public async Task A_MariaDB_GTID_start_yields_the_next_transaction_first()
    {
        await PrepareItemsAsync("items_gtid");
        MariaDbGtidPosition gtids;
        await using (var admin = await NetworkTestEnvironment.OpenAdminAsync())
        {
            gtids = MariaDbGtidPosition.Parse((await admin.QueryAsync("SELECT @@gtid_binlog_pos")).Rows[0][0]!);
            await admin.ExecuteAsync($"INSERT INTO {Database}.items_gtid VALUES (1, 'g', 1)");
        }

        await using var client = new BinlogClient(NetworkTestEnvironment.Cdc(2603) with { Start = StartPosition.After(gtids), Blocking = false });
        var events = await ReadAllAsync(client);

        var first = events.OfType<MariaDbGtidEvent>().First();
        Assert.True(gtids.TryGet(first.DomainId, out var previous));
        Assert.Equal(previous.Sequence + 1, first.Sequence);
        Assert.Contains(events.OfType<RowsEvent>(), r => r.Table.Table == "items_gtid");
    }

    [Fact]
    public async Task Each_table_map_is_completed_by_the_schema_source_and_its_rows_use_the_completed_schema()
    {
        var before = await PrepareItemsAsync("items_schema");
        await NetworkTestEnvironment.AdminAsync($"INSERT INTO {Database}.items_schema VALUES (1, 'x', 1)");
        var source = new RecordingSchemaSource();

        await using var client = new BinlogClient(NetworkTestEnvironment.Cdc(2604) with
        {
            Start = StartPosition.At(before),
            Blocking = false,
            SchemaSource = source,
        });
        var events = await ReadAllAsync(client);

        var map = events.OfType<TableMapEvent>().Last(m => m.Table == "items_schema");
        var rows = events.OfType<RowsEvent>().Last(r => r.TableId == map.TableId);
        Assert.Contains(source.Completed, s => ReferenceEquals(s, map.Schema));
        Assert.Same(map.Schema, rows.Table);
    }

    [Fact]
    public async Task An_idle_blocking_stream_yields_heartbeats()
    {
        var options = _fixture.Server.Cdc(2605) with
        {
            Start = StartPosition.CurrentEnd,
            HeartbeatPeriod = TimeSpan.FromSeconds(1),
            ReadTimeout = TimeSpan.FromSeconds(5),
        };
        await using var client = new BinlogClient(options);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        HeartbeatEvent? heartbeat = null;
        await foreach (var binlogEvent in client.ReadEventsAsync(timeout.Token))
        {
            if (binlogEvent is HeartbeatEvent found)
            {
                heartbeat = found;
                break;
            }
        }

        Assert.NotNull(heartbeat);
        Assert.StartsWith("mariadb-bin.", heartbeat.LogFile, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killing_the_source_ends_the_enumeration_promptly_with_a_connection_error()
    {
        await using var server = await NetworkThrowawayMariaDb.StartAsync();
        var options = server.Cdc(2606) with { Start = StartPosition.CurrentEnd, HeartbeatPeriod = TimeSpan.FromSeconds(2), ReadTimeout = TimeSpan.FromSeconds(30) };
        await using var client = new BinlogClient(options);
        await using var events = client.ReadEventsAsync().GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync());
        Assert.True(await events.MoveNextAsync());
        Assert.IsType<FormatDescriptionEvent>(events.Current);

        var next = events.MoveNextAsync().AsTask();
        var clock = Stopwatch.StartNew();
        await server.KillAsync();

        await Assert.ThrowsAsync<BinlogConnectionException>(async () => await next);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_wrong_password_ends_the_enumeration_with_an_authentication_error()
    {
        await using var client = new BinlogClient(NetworkTestEnvironment.Cdc(2607) with { Password = "CANARY-e2e-wrong" });

        var error = await Assert.ThrowsAsync<BinlogAuthenticationException>(async () => await ReadAllAsync(client));

        Assert.Contains("Access denied", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CANARY", error.ToString(), StringComparison.Ordinal);
        Assert.Null(client.Position);
    }

    [Fact]
    public async Task A_purged_start_position_ends_the_enumeration_with_a_server_error()
    {
        await using var client = new BinlogClient(NetworkTestEnvironment.Cdc(2608) with { Start = StartPosition.At("mariadb-bin.999999", 4), Blocking = false });

        var error = await Assert.ThrowsAsync<BinlogServerException>(async () => await ReadAllAsync(client));

        Assert.Equal(1236, error.ErrorCode);
        Assert.Contains("mariadb-bin.999999:4", error.Message, StringComparison.Ordinal);
    }

    private static async Task<BinlogPosition> PrepareItemsAsync(string table)
    {
        await NetworkTestEnvironment.AdminAsync(
            $"CREATE DATABASE IF NOT EXISTS {Database}",
            $"CREATE OR REPLACE TABLE {Database}.{table} (id INT PRIMARY KEY, name VARCHAR(20), qty BIGINT UNSIGNED NULL)");
        await using var admin = await NetworkTestEnvironment.OpenAdminAsync();
        return await admin.ReadCurrentPositionAsync();
    }

    private static async Task<List<BinlogEvent>> ReadAllAsync(BinlogClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = new List<BinlogEvent>();
        await foreach (var binlogEvent in client.ReadEventsAsync(timeout.Token))
        {
            events.Add(binlogEvent);
        }

        return events;
    }

    private sealed class RecordingSchemaSource : ITableSchemaSource
    {
        public List<TableSchema> Completed { get; } = [];

        public ValueTask<TableSchema?> CompleteAsync(TableMapEvent tableMap, TableSchema fromTableMap, CancellationToken cancellationToken)
        {
            var completed = new TableSchema(fromTableMap.Schema, fromTableMap.Table, fromTableMap.Columns, fromTableMap.PrimaryKey);
            Completed.Add(completed);
            return ValueTask.FromResult<TableSchema?>(completed);
        }

        public void Invalidate(string? schema, string? table)
        {
        }
    }
}
