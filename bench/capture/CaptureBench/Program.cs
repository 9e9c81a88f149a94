using System.Diagnostics;
using System.Globalization;
using Replicator.Binlog.Network;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;

// capture-bench --source <connection string> --from <file:pos> --to <file:pos> --schema <name> --server-id <id>
// Reads the binlog range [from, to) once through BinlogClient (non-blocking dump) and ChangeExtractor,
// with every row decoded to typed values and turned into a change, and prints one line:
// "rows=<changes of the schema> events=<events> seconds=<elapsed> rows_per_sec=<rate>".
var arguments = ParseArguments(args);
var from = ParsePosition(arguments["--from"]);
var to = ParsePosition(arguments["--to"]);
var options = BinlogClientOptions.FromConnectionString(arguments["--source"]) with
{
    ServerId = uint.Parse(arguments["--server-id"], CultureInfo.InvariantCulture),
    Start = StartPosition.At(from),
    Blocking = false,
};

var extractor = new ChangeExtractor("bench", new TableFilter([$"{arguments["--schema"]}.*"]));
var items = new List<CaptureItem>(1024);
long rows = 0;
long events = 0;
string? file = null;
long fileSequence = -1;
var clock = Stopwatch.StartNew();
await using (var client = new BinlogClient(options))
{
    await foreach (var binlogEvent in client.ReadEventsAsync())
    {
        // Past the range: a later file, or the end file from the end position on.
        if (!ReferenceEquals(binlogEvent.File, file))
        {
            file = binlogEvent.File;
            fileSequence = BinlogPosition.FileSequenceOf(file);
        }

        if (fileSequence > to.FileSequence || (fileSequence == to.FileSequence && binlogEvent.Header.Position >= to.Position && binlogEvent.Header.NextPosition > 0))
        {
            break;
        }

        events++;
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

clock.Stop();
var seconds = clock.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rows={rows} events={events} seconds={seconds:0.000} rows_per_sec={rows / seconds:0}"));
return 0;

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
