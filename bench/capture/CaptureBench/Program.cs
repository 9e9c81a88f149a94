using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Replicator.Binlog.Events;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;

// capture-bench --source <connection string> --from <file:pos> --to <file:pos> --schema <name> --server-id <id>
//               [--threads 1] [--extract no] [--repeat 3]
//
// Reads the binlog range [from, to) through BinlogClient (a non-blocking dump) and ChangeExtractor:
// every row is decoded to typed values and turned into a change. Prints one line:
// "rows=<changes of the schema> events=<events> seconds=<elapsed> rows_per_sec=<rate> cpu_seconds=<cpu>".
//
// As in the capture actor, reading and decoding run on one thread and turning events into changes
// on another (the reader hands events over in batches). Before the timed read, a warm-up read of
// the range's first events (untimed, its own connection) compiles the code paths, so the figure is
// that of a running capture rather than of JIT compilation.
//
// --repeat N times the read N times (each on a new connection) and prints the median read, with
// every read's rate in rates=; one read on a shared 2-core machine is a noisy figure.
//
// --threads 1 reads, decodes and extracts on one thread. --extract no (implies one thread) only
// reads and decodes, counting the rows of the schema's rows events: what the reader alone costs.
var arguments = ParseArguments(args);
var from = ParsePosition(arguments["--from"]);
var to = ParsePosition(arguments["--to"]);
var serverId = uint.Parse(arguments["--server-id"], CultureInfo.InvariantCulture);
var filter = new TableFilter([$"{arguments["--schema"]}.*"]);
var extract = !arguments.TryGetValue("--extract", out var extractArgument) || extractArgument != "no";
var pipelined = extract && (!arguments.TryGetValue("--threads", out var threads) || threads != "1");
var options = BinlogClientOptions.FromConnectionString(arguments["--source"]) with
{
    Start = StartPosition.At(from),
    Blocking = false,
};

var repeat = arguments.TryGetValue("--repeat", out var repeatArgument) ? int.Parse(repeatArgument, CultureInfo.InvariantCulture) : 1;
await ReadAsync(options with { ServerId = serverId }, filter, to, maxEvents: 100_000, pipelined, extract);
var rates = new List<(double Rate, string Line)>();
for (var read = 0; read < repeat; read++)
{
    var (rate, line) = await TimedReadAsync();
    rates.Add((rate, line));
}

var median = rates.OrderBy(r => r.Rate).ElementAt(rates.Count / 2);
var all = string.Join(",", rates.Select(r => r.Rate.ToString("0", CultureInfo.InvariantCulture)));
Console.WriteLine(repeat == 1 ? median.Line : $"{median.Line} reads={repeat} rates={all}");
return 0;

async Task<(double Rate, string Line)> TimedReadAsync()
{
    var process = Process.GetCurrentProcess();
    var cpuBefore = process.TotalProcessorTime;
    var allocatedBefore = GC.GetTotalAllocatedBytes();
    var pauseBefore = GC.GetTotalPauseDuration();
    var collectionsBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
    var clock = Stopwatch.StartNew();
    var (rows, events) = await ReadAsync(options with { ServerId = serverId }, filter, to, maxEvents: long.MaxValue, pipelined, extract);
    clock.Stop();
    process.Refresh();
    var seconds = clock.Elapsed.TotalSeconds;
    var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
    var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
    var gcs = $"{GC.CollectionCount(0) - collectionsBefore.Item1}/{GC.CollectionCount(1) - collectionsBefore.Item2}/{GC.CollectionCount(2) - collectionsBefore.Item3}";
    var pause = (GC.GetTotalPauseDuration() - pauseBefore).TotalSeconds;
    // cpu_seconds: this process's CPU time in the timed read (both threads); on a busy machine it says
    // what the read costs even when the wall time also counts waiting for a core. alloc_bytes_per_row,
    // gc (gen0/gen1/gen2 collections) and gc_pause_seconds (both threads stopped) say what the read
    // cost the garbage collector.
    return (rows / seconds, string.Create(CultureInfo.InvariantCulture, $"rows={rows} events={events} seconds={seconds:0.000} rows_per_sec={rows / seconds:0} cpu_seconds={cpu:0.000} alloc_bytes_per_row={allocated / Math.Max(1, rows)} gc={gcs} gc_pause_seconds={pause:0.000}"));
}


static async Task<(long Rows, long Events)> ReadAsync(BinlogClientOptions options, TableFilter filter, BinlogPosition to, long maxEvents, bool pipelined, bool extract)
{
    const int BatchSize = 512;
    // BinlogPosition.FileSequence parses the file name each time it is read: once, not per event.
    var toFileSequence = to.FileSequence;
    if (!pipelined)
    {
        return await ReadInlineAsync(options, filter, to, maxEvents, extract);
    }

    var batches = Channel.CreateBounded<BinlogEvent[]>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
    long events = 0;
    var reader = Task.Run(async () =>
    {
        try
        {
            await using var client = new BinlogClient(options);
            var batch = new BinlogEvent[BatchSize];
            var count = 0;
            string? file = null;
            long fileSequence = -1;
            await foreach (var binlogEvent in client.ReadEventsAsync())
            {
                // Past the range: a later file, or the end file from the end position on.
                if (!ReferenceEquals(binlogEvent.File, file))
                {
                    file = binlogEvent.File;
                    fileSequence = BinlogPosition.FileSequenceOf(file);
                }

                if (events == maxEvents || fileSequence > toFileSequence
                    || (fileSequence == toFileSequence && binlogEvent.Header.Position >= to.Position && binlogEvent.Header.NextPosition > 0))
                {
                    break;
                }

                events++;
                batch[count++] = binlogEvent;
                if (count == BatchSize)
                {
                    await batches.Writer.WriteAsync(batch);
                    batch = new BinlogEvent[BatchSize];
                    count = 0;
                }
            }

            if (count > 0)
            {
                await batches.Writer.WriteAsync(batch[..count]);
            }

            batches.Writer.Complete();
        }
        catch (Exception e)
        {
            batches.Writer.Complete(e);
        }
    });

    var extractor = new ChangeExtractor("bench", filter);
    var items = new List<CaptureItem>(1024);
    long rows = 0;
    await foreach (var batch in batches.Reader.ReadAllAsync())
    {
        foreach (var binlogEvent in batch)
        {
            items.Clear();
            extractor.Process(binlogEvent, items);
            foreach (var item in items)
            {
                if (item is ChangeCaptured)
                {
                    rows++;
                }
            }
        }
    }

    await reader;
    return (rows, events);
}

// One thread: read, decode and (unless extract is false) extract in one loop.
static async Task<(long Rows, long Events)> ReadInlineAsync(BinlogClientOptions options, TableFilter filter, BinlogPosition to, long maxEvents, bool extract)
{
    var toFileSequence = to.FileSequence;
    var extractor = new ChangeExtractor("bench", filter);
    var items = new List<CaptureItem>(1024);
    long rows = 0;
    long events = 0;
    string? file = null;
    long fileSequence = -1;
    await using var client = new BinlogClient(options);
    await foreach (var binlogEvent in client.ReadEventsAsync())
    {
        if (!ReferenceEquals(binlogEvent.File, file))
        {
            file = binlogEvent.File;
            fileSequence = BinlogPosition.FileSequenceOf(file);
        }

        if (events == maxEvents || fileSequence > toFileSequence
            || (fileSequence == toFileSequence && binlogEvent.Header.Position >= to.Position && binlogEvent.Header.NextPosition > 0))
        {
            break;
        }

        events++;
        if (!extract)
        {
            if (binlogEvent is RowsEvent rowsEvent && filter.Includes(rowsEvent.Table.Schema, rowsEvent.Table.Table))
            {
                rows += rowsEvent.Rows.Count;
            }

            continue;
        }

        items.Clear();
        extractor.Process(binlogEvent, items);
        foreach (var item in items)
        {
            if (item is ChangeCaptured)
            {
                rows++;
            }
        }
    }

    return (rows, events);
}

static Dictionary<string, string> ParseArguments(string[] args)
{
    var map = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        map[args[i]] = args[i + 1];
    }

    foreach (var required in new[] { "--source", "--from", "--to", "--schema", "--server-id" })
    {
        if (!map.ContainsKey(required))
        {
            throw new ArgumentException($"capture-bench needs {required}");
        }
    }

    return map;
}

static BinlogPosition ParsePosition(string text)
{
    var colon = text.LastIndexOf(':');
    return new BinlogPosition(text[..colon], long.Parse(text[(colon + 1)..], CultureInfo.InvariantCulture));
}
