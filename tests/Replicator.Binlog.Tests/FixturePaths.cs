namespace Replicator.Binlog.Tests;

/// <summary>Finds the recorded binlog fixtures relative to the repository, wherever it is checked out.</summary>
internal static class FixturePaths
{
    public static string BinlogRoot { get; } = Path.Combine(FindRepositoryRoot(), "tests", "fixtures", "binlog");

    public static IEnumerable<string> FixtureNames() =>
        Directory.GetDirectories(BinlogRoot).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    /// <summary>The binlog file of a fixture folder: the one file that is not expected.json.</summary>
    public static string BinlogFile(string fixture) =>
        Directory.GetFiles(Path.Combine(BinlogRoot, fixture)).Single(f => Path.GetFileName(f) is not "expected.json");

    public static string ExpectedFile(string fixture) => Path.Combine(BinlogRoot, fixture, "expected.json");

    /// <summary>Every event of a fixture's binlog, read to the end before anything looks at them.</summary>
    public static async Task<List<Events.BinlogEvent>> ReadEventsAsync(string fixture)
    {
        var events = new List<Events.BinlogEvent>();
        await foreach (var e in Parsers.BinlogFileReader.ReadAsync(BinlogFile(fixture)))
        {
            events.Add(e);
        }

        return events;
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Replicator.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"No Replicator.sln above {AppContext.BaseDirectory}.");
    }
}
