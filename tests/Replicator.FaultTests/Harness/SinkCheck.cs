using System.Globalization;
using MySqlConnector;
using StackExchange.Redis;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// The checker of FAULTS.md §4.1: src.t in the source against the redis-cache sink
/// (<c>&lt;prefix&gt;src:t:&lt;pk&gt;</c> hashes), pk by pk, classified as missing in the sink, stale
/// (the sink's ver is older), resurrected (deleted in the source, present in the sink) or corrupt
/// (same ver, other content, or not a hash); and the generator's ledger against the sink: every
/// acknowledged change must be reflected in the final state.
/// </summary>
public static class SinkCheck
{
    public static async Task<SinkComparison> CompareAsync(string sourceConnectionString, IConnectionMultiplexer redis, string keyPrefix)
    {
        var source = new Dictionary<long, (string V, string Payload, long Ver)>();
        await using (var connection = new MySqlConnection(sourceConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new MySqlCommand("SELECT id, v, payload, ver FROM src.t", connection) { CommandTimeout = 120 };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                source[reader.GetInt64(0)] = (
                    reader.IsDBNull(1) ? "" : reader.GetInt64(1).ToString(CultureInfo.InvariantCulture),
                    reader.IsDBNull(2) ? "" : reader.GetString(2),
                    reader.GetInt64(3));
            }
        }

        var sink = await ReadSinkAsync(redis, keyPrefix);
        var result = new SinkComparison { SourceRows = source.Count, SinkRows = sink.Count };
        foreach (var (pk, row) in source)
        {
            if (!sink.TryGetValue(pk, out var held))
            {
                result.MissingInSink++;
                result.MismatchedPks.Add(pk);
                result.Note($"pk {pk}: missing in the sink (source ver {row.Ver})");
                continue;
            }

            if (held.Error is not null)
            {
                result.Corrupt++;
                result.MismatchedPks.Add(pk);
                result.Note($"pk {pk}: {held.Error}");
                continue;
            }

            if (held.Ver is not { } ver)
            {
                result.Corrupt++;
                result.MismatchedPks.Add(pk);
                result.Note($"pk {pk}: the sink's hash has no ver");
                continue;
            }

            if (ver < row.Ver)
            {
                result.Stale++;
                result.MismatchedPks.Add(pk);
                result.Note($"pk {pk}: stale, sink ver {ver} < source ver {row.Ver}");
            }
            else if (ver > row.Ver || held.V != row.V || held.Payload != row.Payload || held.Fields != 4)
            {
                result.Corrupt++;
                result.MismatchedPks.Add(pk);
                result.Note($"pk {pk}: corrupt, sink ver {ver} v {held.V} payload {held.Payload} ({held.Fields} fields), source ver {row.Ver} v {row.V} payload {row.Payload}");
            }
        }

        foreach (var (pk, held) in sink)
        {
            if (!source.ContainsKey(pk))
            {
                result.Resurrected++;
                result.MismatchedPks.Add(pk);
                result.Note($"pk {pk}: in the sink (ver {held.Ver?.ToString(CultureInfo.InvariantCulture) ?? held.Error}) but deleted in the source");
            }
        }

        result.SinkVersions = sink.Where(s => s.Value.Ver is not null).ToDictionary(s => s.Key, s => s.Value.Ver!.Value);
        return result;
    }

    /// <summary>
    /// Acknowledged changes not reflected in the sink's final state: a write of ver w needs the sink
    /// to hold ver ≥ w, or the row to be gone after a later acknowledged delete; a delete of the row
    /// holding ver w needs the row gone, or a later write (ver &gt; w) in its place.
    /// </summary>
    public static (long Lost, List<string> Examples) LedgerLost(IReadOnlyList<LedgerEntry> ledger, IReadOnlyDictionary<long, long> sinkVersions)
    {
        var lastDeleted = new Dictionary<long, long>();
        foreach (var entry in ledger.Where(e => e.Deleted))
        {
            lastDeleted[entry.Pk] = Math.Max(lastDeleted.GetValueOrDefault(entry.Pk, long.MinValue), entry.Ver);
        }

        long lost = 0;
        var examples = new List<string>();
        foreach (var entry in ledger)
        {
            var present = sinkVersions.TryGetValue(entry.Pk, out var held);
            bool reflected;
            if (entry.Deleted)
            {
                reflected = !present || held > entry.Ver;
            }
            else
            {
                reflected = present ? held >= entry.Ver : lastDeleted.TryGetValue(entry.Pk, out var deletedVer) && deletedVer >= entry.Ver;
            }

            if (!reflected)
            {
                lost++;
                if (examples.Count < 10)
                {
                    examples.Add($"{(entry.Deleted ? "delete of" : "write of")} pk {entry.Pk} ver {entry.Ver} committed {entry.CommittedUtc:HH:mm:ss.fff}; sink {(present ? "ver " + held.ToString(CultureInfo.InvariantCulture) : "absent")}");
                }
            }
        }

        return (lost, examples);
    }

    private static async Task<Dictionary<long, SinkRow>> ReadSinkAsync(IConnectionMultiplexer redis, string keyPrefix)
    {
        var server = redis.GetServers()[0];
        var database = redis.GetDatabase();
        var tablePrefix = keyPrefix + "src:t:";
        var keys = new List<RedisKey>();
        await foreach (var key in server.KeysAsync(pattern: tablePrefix + "*", pageSize: 2000))
        {
            keys.Add(key);
        }

        var rows = new Dictionary<long, SinkRow>();
        foreach (var chunk in keys.Chunk(1000))
        {
            var reads = chunk.Select(k => (Key: k, Read: ReadRowAsync(database, k))).ToList();
            foreach (var (key, read) in reads)
            {
                var text = key.ToString()[tablePrefix.Length..];
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pk))
                {
                    continue;
                }

                rows[pk] = await read;
            }
        }

        return rows;
    }

    private static async Task<SinkRow> ReadRowAsync(IDatabase database, RedisKey key)
    {
        try
        {
            var fields = await database.HashGetAllAsync(key);
            var map = fields.ToDictionary(f => f.Name.ToString(), f => f.Value.ToString());
            long? ver = map.TryGetValue("ver", out var text) && long.TryParse(text, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            return new SinkRow(ver, map.GetValueOrDefault("v", ""), map.GetValueOrDefault("payload", ""), map.Count, null);
        }
        catch (RedisServerException e)
        {
            return new SinkRow(null, "", "", 0, "not a hash: " + e.Message);
        }
    }

    private sealed record SinkRow(long? Ver, string V, string Payload, int Fields, string? Error);
}
