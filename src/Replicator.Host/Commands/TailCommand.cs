using System.CommandLine;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;
using Replicator.Engine.Schema;
using Replicator.Model;

namespace Replicator.Host.Commands;

/// <summary>
/// <c>replicator tail</c>: prints every row change of a source (or of binlog files) as one JSON
/// line on stdout, in the event format of DESIGN.md. Logs and errors go to stderr.
/// </summary>
internal static class TailCommand
{
    public static Command Create()
    {
        var source = SourceOptions.Create("a user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT");
        var files = new Option<string[]>("--file") { Description = "Decode binlog files from disk instead of a server (repeatable).", AllowMultipleArgumentsPerToken = false };
        var tables = new Option<string?>("--tables") { Description = "Only these tables: schema.table[,schema.table…], '*' globs allowed." };
        var fromStart = new Option<bool>("--from-start") { Description = "Start at the oldest binlog on the server instead of its current end." };
        var untilNow = new Option<bool>("--until-now") { Description = "Stop at the end of the binlog as it is when tail starts, instead of following it." };
        var serverId = new Option<uint?>("--server-id") { Description = "Replica server_id to register with (default: a random id above 100000)." };
        var name = new Option<string>("--name") { Description = "The source name written in each change.", DefaultValueFactory = _ => "source" };
        var zeroDates = new Option<string>("--zero-dates")
        {
            Description = "How zero dates (0000-00-00) and zero-in-date values (2020-00-15) are printed: literal (the server's text) or null, as the replicator.zero-dates setting.",
            DefaultValueFactory = _ => "literal",
        };
        zeroDates.AcceptOnlyFromAmong("literal", "null");
        var command = new Command("tail", "Print every row change as a JSON line.") { files, tables, fromStart, untilNow, serverId, name, zeroDates };
        foreach (var option in source.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => TailAsync(
            () => source.Resolve(result),
            result.GetValue(files) ?? [],
            result.GetValue(tables),
            result.GetValue(fromStart),
            result.GetValue(untilNow),
            result.GetValue(serverId),
            result.GetValue(name)!,
            new ValueFormatOptions(result.GetValue(zeroDates) == "null" ? ZeroDateHandling.Null : ZeroDateHandling.Literal),
            cancellationToken));
        return command;
    }

    private static async Task<int> TailAsync(
        Func<string?> resolveSource,
        string[] files,
        string? tables,
        bool fromStart,
        bool untilNow,
        uint? serverId,
        string name,
        ValueFormatOptions format,
        CancellationToken cancellationToken)
    {
        string? connectionString;
        try
        {
            connectionString = resolveSource();
        }
        catch (ArgumentException e)
        {
            return Errors.Report(e.Message);
        }

        if (connectionString is null && files.Length == 0)
        {
            return Errors.Report("tail needs --source \"<connection string>\" (or --source-env NAME) or --file <binlog file>.");
        }

        TableFilter filter;
        try
        {
            filter = new TableFilter(tables?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? []);
        }
        catch (ArgumentException e)
        {
            return Errors.Report($"--tables: {e.Message}");
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        await using var stdout = Console.OpenStandardOutput();
        await using var buffered = new BufferedStream(stdout, 1 << 16);
        var output = new ChangeWriter(buffered, format);
        MySqlSchemaSource? schemaSource = null;
        try
        {
            if (connectionString is not null)
            {
                schemaSource = new MySqlSchemaSource(connectionString);
                output.SchemaSource = schemaSource;
            }

            if (files.Length > 0)
            {
                var extractor = new ChangeExtractor(name, filter, allowKeyless: true);
                foreach (var file in files)
                {
                    if (!File.Exists(file))
                    {
                        return Errors.Report($"binlog file {file} does not exist.");
                    }

                    await foreach (var binlogEvent in BinlogFileReader.ReadAsync(file, schemaSource, cancellationToken: stop.Token).ConfigureAwait(false))
                    {
                        await output.WriteAsync(extractor, binlogEvent, stop.Token).ConfigureAwait(false);
                    }
                }
            }
            else
            {
                var id = serverId ?? (uint)Random.Shared.Next(100_001, 999_999);
                foreach (var warning in await SourcePreflight.CheckAsync(connectionString!, id, null, stop.Token).ConfigureAwait(false))
                {
                    Console.Error.WriteLine($"replicator: warning: {warning}");
                }

                var options = BinlogClientOptions.FromConnectionString(connectionString!) with
                {
                    ServerId = id,
                    Start = fromStart ? StartPosition.Oldest : StartPosition.CurrentEnd,
                    Blocking = !untilNow,
                    SchemaSource = schemaSource,
                };
                // Rows are not labelled with names read after a DDL that follows them (binlog_row_metadata not FULL): tail fails naming the table.
                var extractor = new ChangeExtractor(name, filter) { SchemaHistory = schemaSource?.History };
                await using var client = new BinlogClient(options);
                await foreach (var binlogEvent in client.ReadEventsAsync(stop.Token).ConfigureAwait(false))
                {
                    await output.WriteAsync(extractor, binlogEvent, stop.Token).ConfigureAwait(false);
                }
            }

            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is BinlogException or PreflightException or BinlogFormatException or MissingKeyException or TableMappingException or ArgumentException or IOException)
        {
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return Errors.Report(e.Message);
        }
        finally
        {
            if (schemaSource is not null)
            {
                await schemaSource.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Writes the changes of each event as JSON lines; flushes at transaction ends so a follower sees
    /// them promptly. A DDL drops the schema source's cached metadata of the table it changed before
    /// the next TABLE_MAP is read.
    /// </summary>
    private sealed class ChangeWriter(Stream output, ValueFormatOptions format)
    {
        // Changes are written into this buffer and copied to the stream in large pieces: a
        // Utf8JsonWriter over the stream itself would flush the stream after every change.
        private const int WriteThreshold = 32 * 1024;

        private readonly List<CaptureItem> _items = new();
        private readonly System.Buffers.ArrayBufferWriter<byte> _pending = new(2 * WriteThreshold);
        private System.Text.Json.Utf8JsonWriter? _writer;

        public ITableSchemaSource? SchemaSource { get; set; }

        public async ValueTask WriteAsync(ChangeExtractor extractor, BinlogEvent binlogEvent, CancellationToken cancellationToken)
        {
            _items.Clear();
            extractor.Process(binlogEvent, _items);
            var flush = false;
            foreach (var item in _items)
            {
                switch (item)
                {
                    case ChangeCaptured captured:
                        var writer = _writer ??= ChangeJson.CreateWriter(_pending);
                        ChangeJson.Write(writer, captured.Change, format);
                        writer.Flush();
                        writer.Reset();
                        System.Buffers.BuffersExtensions.Write(_pending, "\n"u8);
                        if (_pending.WrittenCount >= WriteThreshold)
                        {
                            await output.WriteAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
                            _pending.ResetWrittenCount();
                        }

                        break;
                    case TransactionEnded:
                        flush = true;
                        break;
                    case SchemaChanged changed:
                        SchemaSource?.Invalidate(changed.Schema, changed.Table);
                        break;
                }
            }

            if (flush)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Writes out every change so far; at transaction ends, so that a follower sees whole transactions promptly.</summary>
        public async ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            if (_pending.WrittenCount > 0)
            {
                await output.WriteAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
                _pending.ResetWrittenCount();
            }

            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
