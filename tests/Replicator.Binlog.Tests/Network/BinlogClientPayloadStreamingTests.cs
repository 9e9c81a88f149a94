using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;
using static Replicator.Binlog.Tests.Bytes;
using static Replicator.Binlog.Tests.PayloadBuilder;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// BinlogClient over a fake MySQL server with <see cref="BinlogDecoderOptions.StreamTransactionPayloads"/>
/// on, as the capture reads: a compressed transaction comes a part at a time, read where the
/// event sits in the connection's buffer, with its TABLE_MAP completed by the schema source.
/// </summary>
public sealed class BinlogClientPayloadStreamingTests
{
    private const string Password = "payload-dev-password";

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_compressed_transaction_comes_a_part_at_a_time_with_the_rows_of_the_whole_decode_and_its_table_map_completed()
    {
        var b = new EventBuilder();
        var dump = new List<byte[]> { NetworkFakeMySqlServer.FakeRotate(NetworkFakeMySqlServer.BinlogFile, 4), b.FormatDescription() };
        // About 4 MB inflated (more than the 256 KB read buffer), then a small payload right behind it in the same read.
        var large = InnerEvents(200, rowsPerEvent: 20, cell: 1_000);
        var largeData = Concat(large.ToArray());
        var largeAt = b.Position;
        dump.Add(PayloadEvent(b, ZstdCompress(largeData), largeData.Length));
        var small = InnerEvents(1, rowsPerEvent: 1, cell: 10);
        var smallData = Concat(small.ToArray());
        var smallAt = b.Position;
        dump.Add(PayloadEvent(b, ZstdCompress(smallData), smallData.Length));
        dump.Add(b.Xid(77));

        var whole = await ReadAsync(dump, streamed: false, source: null);
        var source = new NamingSchemaSource();
        var streamed = await ReadAsync(dump, streamed: true, source);

        var wholeInner = whole.OfType<TransactionPayloadEvent>().SelectMany(p => p.Events.Select(e => (p.Header.Position, Event: e))).ToList();
        var parts = streamed.OfType<TransactionPayloadPart>().ToList();
        Assert.DoesNotContain(streamed, e => e is TransactionPayloadEvent);
        Assert.Equal(large.Count + small.Count, parts.Count);
        Assert.Equal(wholeInner.Count, parts.Count);
        Assert.All(parts.Take(large.Count), p => Assert.Equal(largeAt, p.Header.Position));
        Assert.All(parts.Skip(large.Count), p => Assert.Equal(smallAt, p.Header.Position));
        Assert.Equal([large.Count - 1, small.Count - 1], parts.Where(p => p.IsLast).Select(p => p.Index));
        Assert.IsType<XidEvent>(streamed[^1]);

        for (var i = 0; i < parts.Count; i++)
        {
            Assert.Equal(wholeInner[i].Position, parts[i].Header.Position);
            Assert.Equal(wholeInner[i].Event.Type, parts[i].Event.Type);
            if (parts[i].Event is RowsEvent rows)
            {
                var expected = (RowsEvent)wholeInner[i].Event;
                Assert.Equal(expected.Rows.Count, rows.Rows.Count);
                for (var r = 0; r < rows.Rows.Count; r++)
                {
                    Assert.Equal(expected.Rows[r].After, rows.Rows[r].After);
                }

                // The rows are decoded with the schema the source completed for the payload's TABLE_MAP.
                Assert.Equal(["c0", "c1"], rows.Table.Columns.Select(c => c.Name));
            }
        }

        // Values decoded from the reused window and the connection buffer keep their own bytes.
        var last = parts.Take(large.Count).OfType<TransactionPayloadPart>().Select(p => p.Event).OfType<RowsEvent>().Last();
        Assert.Equal(Cell(199, 19, 1_000), last.Rows[19].After![1].ToString());
        Assert.Equal(2, source.Calls);
        Assert.All(parts.Where(p => p.Event is TableMapEvent), p => Assert.Equal("c1", ((TableMapEvent)p.Event).Schema.Columns[1].Name));
    }

    private static async Task<List<BinlogEvent>> ReadAsync(List<byte[]> dump, bool streamed, ITableSchemaSource? source)
    {
        await using var server = new NetworkFakeMySqlServer();
        server.Accounts.Add(("cdc", Password, "mysql_native_password"));
        server.DumpEvents.AddRange(dump);
        var options = new BinlogClientOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            User = "cdc",
            Password = Password,
            ServerId = 2902,
            SslMode = BinlogSslMode.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ReadTimeout = TimeSpan.FromSeconds(60),
            Start = StartPosition.At(NetworkFakeMySqlServer.BinlogFile, 4),
            Blocking = false,
            SchemaSource = source,
            Decoder = new BinlogDecoderOptions { StreamTransactionPayloads = streamed },
        };
        await using var client = new BinlogClient(options);
        using var timeout = new CancellationTokenSource(Limit);
        var events = new List<BinlogEvent>();
        await foreach (var binlogEvent in client.ReadEventsAsync(timeout.Token))
        {
            events.Add(binlogEvent);
        }

        return events;
    }

    /// <summary>Names the columns c0, c1, … as information_schema would; counts its calls.</summary>
    private sealed class NamingSchemaSource : ITableSchemaSource
    {
        public int Calls { get; private set; }

        public async ValueTask<TableSchema?> CompleteAsync(TableMapEvent tableMap, TableSchema fromTableMap, CancellationToken cancellationToken)
        {
            Calls++;
            // Completes on another turn, as a query would: the parts that follow must wait for it.
            await Task.Yield();
            return new TableSchema(fromTableMap.Schema, fromTableMap.Table, fromTableMap.Columns.Select((c, i) => c with { Name = $"c{i}" }).ToList(), [0]);
        }

        public void Invalidate(string? schema, string? table)
        {
        }
    }
}
