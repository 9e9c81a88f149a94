using System.Text.Json;

namespace Replicator.Testing;

/// <summary>
/// An embedded (SQLite) journal that a node of an earlier release wrote, checked in under
/// <c>tests/fixtures/journals/&lt;name&gt;/</c> with <c>offset.json</c>, the offset it holds. A binlog
/// position is only meaningful in the binlog it was read from, so the fixture is recorded against a
/// throwaway MariaDB that <see cref="PrepareSourceAsync"/> fills with fixed statements: a test that
/// runs them on a fresh server of the same version gets the same binlog, byte for byte, and can start
/// a node of this release on the journal to see where it resumes. Recorded by
/// <c>tests/fixtures/journals/record.sh</c>.
/// </summary>
public sealed record JournalFixture(string Name, string PersistedOffset, string BinlogFile, long BinlogPosition, string Gtid, string RecordedBy)
{
    /// <summary>The source's name in the node's configuration: the capture's persistence id is <c>capture-it</c>.</summary>
    public const string Source = "it";

    /// <summary>The schema <see cref="PrepareSourceAsync"/> creates; its table is <c>t (id INT PRIMARY KEY, v INT NOT NULL)</c>.</summary>
    public const string Schema = "journal_fixture";

    /// <summary>The capture's replica server id.</summary>
    public const int ReplicaServerId = 7301;

    /// <summary>How the source server runs, recording and replaying alike.</summary>
    public static readonly IReadOnlyList<string> ServerOptions =
        ["--server-id=31", "--log-bin=mariadb-bin", "--binlog-format=ROW", "--binlog-row-metadata=FULL", "--gtid-strict-mode=ON", "--character-set-server=utf8mb4"];

    /// <summary>The rows written while the recording node captured: the journal's offset is after the last.</summary>
    public static readonly IReadOnlyList<int> RecordedRows = [1, 2, 3];

    public static string Directory(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "journals", name);

    /// <summary>The node's journal file in the fixture (the node's <c>replicator.db</c>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string JournalFile => Path.Combine(Directory(Name), "replicator.db");

    public static JournalFixture Load(string name)
    {
        var file = Path.Combine(Directory(name), "offset.json");
        return JsonSerializer.Deserialize<JournalFixture>(File.ReadAllText(file), Json) ?? throw new InvalidDataException($"{file} is empty.");
    }

    public void Save() => File.WriteAllText(Path.Combine(Directory(Name), "offset.json"), JsonSerializer.Serialize(this, Json) + "\n");

    public static Task<ThrowawayMariaDb> StartSourceAsync() =>
        ThrowawayMariaDb.StartAsync(new ThrowawayMariaDbOptions { Name = "journal-fixture-source", ServerOptions = ServerOptions });

    /// <summary>Creates the capture user <c>cdc</c> and the table, before the recording node starts.</summary>
    public static async Task PrepareSourceAsync(ThrowawayMariaDb server)
    {
        await server.CreateUserAsync("cdc", "REPLICATION SLAVE, REPLICATION CLIENT, SELECT");
        await server.ExecuteAsync($"CREATE DATABASE {Schema}");
        await server.ExecuteAsync($"CREATE TABLE {Schema}.t (id INT PRIMARY KEY, v INT NOT NULL)");
    }

    /// <summary>Writes <see cref="RecordedRows"/>, one transaction each, as the recording did while its node captured.</summary>
    public static async Task WriteRecordedRowsAsync(ThrowawayMariaDb server)
    {
        foreach (var id in RecordedRows)
        {
            await server.ExecuteAsync($"INSERT INTO {Schema}.t VALUES ({id}, {id * 10})");
        }
    }

    /// <summary>The part of a node's HOCON that names the source as the recording did.</summary>
    public static string SourceHocon(ThrowawayMariaDb server) => $$"""
        replicator.sources {
          {{Source}} {
            connection-string = {{JsonSerializer.Serialize(server.ConnectionString("cdc"))}}
            server-id = {{ReplicaServerId}}
            tables = ["{{Schema}}.*"]
          }
        }
        """;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower, WriteIndented = true };
}
