using MySqlConnector;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// Counts binlog readers on the source every 200 ms (SHOW PROCESSLIST commands "Binlog Dump" and
/// "Binlog Dump GTID" of the capture's user, cdc: a replica's dump thread is not a capture), for the
/// promise that each binlog has one reader at any time. Polls fail
/// quietly while the source is down.
/// </summary>
public sealed class BinlogReaderMonitor : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<string> _violations = [];
    private readonly Dictionary<string, (DateTime First, DateTime Last)> _byClient = new();

    public BinlogReaderMonitor(string connectionString)
    {
        _connectionString = connectionString;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The most binlog dump threads seen at once.</summary>
    public int MaxConcurrent { get; private set; }

    public long Polls { get; private set; }

    /// <summary>Binlog dump threads at the latest successful poll.</summary>
    public int LastCount { get; private set; }

    /// <summary>Samples that saw more than one reader, with the threads seen.</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_violations)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>When a binlog reader from <paramref name="address"/> (the client's IP) was first and last seen, or null if never.</summary>
    public (DateTime First, DateTime Last)? SeenFrom(string address)
    {
        lock (_byClient)
        {
            return _byClient.TryGetValue(address, out var seen) ? seen : null;
        }
    }

    private async Task LoopAsync()
    {
        MySqlConnection? connection = null;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (connection is not { State: System.Data.ConnectionState.Open })
                {
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                    }

                    connection = new MySqlConnection(_connectionString + ";Connection Timeout=2");
                    await connection.OpenAsync(_stop.Token);
                }

                await using var command = new MySqlCommand(
                    "SELECT ID, USER, HOST, COMMAND, TIME, STATE FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' AND USER = 'cdc'",
                    connection);
                var threads = new List<string>();
                var now = DateTime.UtcNow;
                await using (var reader = await command.ExecuteReaderAsync(_stop.Token))
                {
                    while (await reader.ReadAsync(_stop.Token))
                    {
                        threads.Add($"id {reader.GetValue(0)} {reader.GetValue(1)}@{reader.GetValue(2)} {reader.GetValue(3)} {reader.GetValue(4)}s {reader.GetValue(5)}");
                        var host = reader.GetValue(2)?.ToString() ?? "";
                        var client = host.Contains(':', StringComparison.Ordinal) ? host[..host.LastIndexOf(':')] : host;
                        lock (_byClient)
                        {
                            _byClient[client] = _byClient.TryGetValue(client, out var seen) ? (seen.First, now) : (now, now);
                        }
                    }
                }

                Polls++;
                LastCount = threads.Count;
                MaxConcurrent = Math.Max(MaxConcurrent, threads.Count);
                if (threads.Count > 1)
                {
                    lock (_violations)
                    {
                        if (_violations.Count < 20)
                        {
                            _violations.Add($"{DateTime.UtcNow:HH:mm:ss.fff}: {string.Join("; ", threads)}");
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception)
            {
                // The source is down or restarting; try again next time.
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                    connection = null;
                }
            }

            try
            {
                await Task.Delay(200, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (connection is not null)
        {
            await connection.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
