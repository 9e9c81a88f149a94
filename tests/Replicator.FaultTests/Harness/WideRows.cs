using System.Globalization;
using System.Text;
using MySqlConnector;
using Replicator.Engine.Jobs;
using Replicator.Engine.Jobs.RedisCache;
using StackExchange.Redis;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// A second, slow generator on a wide table, <c>src.w</c>: 40 columns (integers, decimals, doubles,
/// strings, dates and times of several kinds) of which one is a TEXT written with 300,000 characters
/// every time, so that every change is larger than a delivery's byte budget and its row images
/// larger than Akka's default remoting frame. Inserts, updates (every column) and deletes of 200
/// pks, one change per transaction, with its own ledger of acknowledged changes; <c>ver</c> only
/// grows per pk, as in <see cref="Workload"/>.
/// </summary>
public sealed class WideRows
{
    public const int BodyLength = 300_000;
    private const int KeySpace = 200;

    private readonly string _connectionString;
    private readonly Random _random;
    private readonly Dictionary<long, long> _live = new();
    private readonly Dictionary<long, long> _lastVer = new();
    private readonly List<LedgerEntry> _ledger = [];

    public WideRows(string connectionString, int seed)
    {
        _connectionString = connectionString;
        _random = new Random(seed);
    }

    /// <summary>id, ver and body, and 37 more: 40 columns.</summary>
    public static string Schema
    {
        get
        {
            var columns = new List<string> { "id BIGINT PRIMARY KEY", "ver BIGINT NOT NULL", "body MEDIUMTEXT NOT NULL" };
            columns.AddRange(Enumerable.Range(1, 8).Select(i => $"i{i} INT"));
            columns.AddRange(Enumerable.Range(1, 8).Select(i => $"b{i} BIGINT UNSIGNED"));
            columns.AddRange(Enumerable.Range(1, 5).Select(i => $"d{i} DECIMAL(20,6)"));
            columns.AddRange(Enumerable.Range(1, 3).Select(i => $"f{i} DOUBLE"));
            columns.AddRange(Enumerable.Range(1, 8).Select(i => $"s{i} VARCHAR(200)"));
            columns.AddRange(Enumerable.Range(1, 3).Select(i => $"t{i} DATETIME(6)"));
            columns.Add("day DATE");
            columns.Add("span TIME(3)");
            return $"CREATE TABLE src.w ({string.Join(", ", columns)});";
        }
    }

    public long AckedChanges { get; private set; }

    public IReadOnlyList<LedgerEntry> Ledger => _ledger;

    /// <summary>Writes one change per transaction at <paramref name="changesPerSecond"/> until <paramref name="stop"/> is cancelled.</summary>
    public async Task RunAsync(double changesPerSecond, CancellationToken stop)
    {
        var builder = new MySqlConnectionStringBuilder(_connectionString) { Database = "src", DefaultCommandTimeout = 60 };
        await using var connection = new MySqlConnection(builder.ConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        var started = DateTime.UtcNow;
        while (!stop.IsCancellationRequested)
        {
            await ChangeAsync(connection);
            var due = started + TimeSpan.FromSeconds(AckedChanges / changesPerSecond);
            var wait = due - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Compares src.w with the sink by ver, pk by pk, checks the ledger, and runs `replicator check` on it (every column).</summary>
    public async Task<(SinkComparison Comparison, long Lost, List<string> LostExamples, SinkCheckResult Check)> CheckAsync(string sourceConnectionString, IConnectionMultiplexer redis, string keyPrefix)
    {
        var source = new Dictionary<long, long>();
        await using (var connection = new MySqlConnection(sourceConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new MySqlCommand("SELECT id, ver FROM src.w", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                source[reader.GetInt64(0)] = reader.GetInt64(1);
            }
        }

        var database = redis.GetDatabase();
        var sink = new Dictionary<long, long>();
        var prefix = keyPrefix + "src:w:";
        await foreach (var key in redis.GetServers()[0].KeysAsync(pattern: prefix + "*"))
        {
            var ver = await database.HashGetAsync(key, "ver");
            sink[long.Parse(key.ToString()[prefix.Length..], CultureInfo.InvariantCulture)] = ver.HasValue ? long.Parse(ver.ToString(), CultureInfo.InvariantCulture) : -1;
        }

        var comparison = new SinkComparison { SourceRows = source.Count, SinkRows = sink.Count };
        foreach (var (pk, ver) in source)
        {
            if (!sink.TryGetValue(pk, out var held))
            {
                comparison.MissingInSink++;
                comparison.MismatchedPks.Add(pk);
                comparison.Note($"w pk {pk}: missing in the sink (source ver {ver})");
            }
            else if (held < ver)
            {
                comparison.Stale++;
                comparison.MismatchedPks.Add(pk);
                comparison.Note($"w pk {pk}: stale, sink ver {held} < source ver {ver}");
            }
            else if (held > ver)
            {
                comparison.Corrupt++;
                comparison.MismatchedPks.Add(pk);
                comparison.Note($"w pk {pk}: sink ver {held} > source ver {ver}");
            }
        }

        foreach (var (pk, held) in sink.Where(s => !source.ContainsKey(s.Key)))
        {
            comparison.Resurrected++;
            comparison.MismatchedPks.Add(pk);
            comparison.Note($"w pk {pk}: in the sink (ver {held}) but deleted in the source");
        }

        comparison.SinkVersions = sink;
        var (lost, examples) = SinkCheck.LedgerLost(_ledger, sink);
        var check = await new RedisCacheSinkChecker(sourceConnectionString, redis, keyPrefix).CheckAsync("src", "w");
        return (comparison, lost, examples, check);
    }

    private async Task ChangeAsync(MySqlConnection connection)
    {
        var pk = 1 + _random.Next(KeySpace);
        var live = _live.TryGetValue(pk, out var liveVer);
        var delete = live && _random.NextDouble() < 0.15;
        var ver = delete ? liveVer : _lastVer.GetValueOrDefault(pk) + 1;
        string sql;
        if (delete)
        {
            sql = $"DELETE FROM w WHERE id = {pk}";
        }
        else
        {
            var values = Values(pk, ver);
            sql = live
                ? $"UPDATE w SET {string.Join(", ", values.Select(v => $"{v.Column} = {v.Value}"))} WHERE id = {pk}"
                : $"INSERT INTO w (id, {string.Join(", ", values.Select(v => v.Column))}) VALUES ({pk}, {string.Join(", ", values.Select(v => v.Value))})";
        }

        await using (var command = new MySqlCommand(sql, connection))
        {
            // Autocommit: the statement returning is its commit.
            await command.ExecuteNonQueryAsync();
        }

        if (delete)
        {
            _live.Remove(pk);
        }
        else
        {
            _live[pk] = ver;
            _lastVer[pk] = ver;
        }

        _ledger.Add(new LedgerEntry(pk, ver, delete, DateTime.UtcNow));
        AckedChanges++;
    }

    private List<(string Column, string Value)> Values(long pk, long ver)
    {
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        var values = new List<(string, string)>
        {
            ("ver", I(ver)),
            // 300,000 characters, distinct per version, cheap to send: the server repeats them.
            ("body", $"CONCAT('{pk}-{ver}-', REPEAT('{(char)('a' + (int)(ver % 26))}', {BodyLength}))"),
        };
        for (var i = 1; i <= 8; i++)
        {
            values.Add(($"i{i}", I(_random.Next(int.MinValue, int.MaxValue))));
            // b1 above 2^63: an unsigned value no signed 64-bit integer holds.
            var unsigned = (ulong)_random.NextInt64(0, long.MaxValue) + (i == 1 ? 1UL << 63 : 0);
            values.Add(($"b{i}", unsigned.ToString(CultureInfo.InvariantCulture)));
            values.Add(($"s{i}", $"'{Text(_random.Next(0, 200))}'"));
        }

        for (var i = 1; i <= 5; i++)
        {
            values.Add(($"d{i}", string.Create(CultureInfo.InvariantCulture, $"{_random.NextInt64(-99_999_999_999_999, 99_999_999_999_999)}.{_random.Next(0, 1_000_000):000000}")));
        }

        for (var i = 1; i <= 3; i++)
        {
            values.Add(($"f{i}", (_random.NextDouble() * 1e6).ToString("R", CultureInfo.InvariantCulture)));
            values.Add(($"t{i}", $"'{new DateTime(2000, 1, 1).AddSeconds(_random.Next(0, 900_000_000)).AddTicks(_random.Next(0, 1_000_000) * 10L):yyyy-MM-dd HH:mm:ss.ffffff}'"));
        }

        values.Add(("day", $"'{new DateTime(1990, 1, 1).AddDays(_random.Next(0, 15_000)):yyyy-MM-dd}'"));
        values.Add(("span", string.Create(CultureInfo.InvariantCulture, $"'{_random.Next(-838, 838)}:{_random.Next(0, 60):00}:{_random.Next(0, 60):00}.{_random.Next(0, 1000):000}'")));
        return values;
    }

    private string Text(int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éüß";
        var sb = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            sb.Append(alphabet[_random.Next(alphabet.Length)]);
        }

        return sb.ToString();
    }
}
