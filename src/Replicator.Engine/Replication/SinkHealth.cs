using Replicator.Jobs;

namespace Replicator.Engine.Replication;

/// <summary>
/// Tells a sink outage from failing rows, for one definition on one node (its buckets share it).
/// When <see cref="OutagePks"/> different pks have failed the same way because the sink could not
/// take a write (<see cref="ApplyResult.Unavailable"/>: a timeout, no connection, no rights; see
/// <see cref="IsUnavailable"/>) with no success in between (one after another, across buckets),
/// the sink counts as down: Redis unreachable, its credentials revoked, every write timing out. A
/// batch of several pks that failed as a whole counts once, for its bucket, not once per pk: one
/// row can fail its whole batch, and the bucket then tries the batch's pks one by one. A row the
/// sink answered for and refused (WRONGTYPE), or one the job could not handle, is a poison row,
/// never an outage. While it is down, buckets keep
/// their pks' changes and try again with backoff without spending the pks' attempts, so nothing
/// is dead-lettered and the offset does not move past them; the capture stops reading once
/// max-in-flight changes wait (backpressure). The first success ends the outage.
/// </summary>
/// <remarks>
/// Pure (callers pass <c>now</c>) and safe across threads: buckets are actors that run in parallel.
/// A single poison pk never makes an outage, whatever its batches: it is one pk, and the rows of
/// other pks that succeed meanwhile start the count over.
/// </remarks>
public sealed class SinkHealth
{
    /// <summary>Different pks failing the same way, with no success between, that make an outage.</summary>
    public const int OutagePks = 3;

    private readonly object _gate = new();
    private readonly HashSet<string> _failing = new();
    private string? _kind;
    private DateTime? _downSince;
    private string? _error;
    private int _failedProbes;
    private long _outages;

    /// <summary>True while the sink counts as down.</summary>
    public bool IsDown
    {
        get
        {
            lock (_gate)
            {
                return _downSince is not null;
            }
        }
    }

    /// <summary>When the current outage began, or null.</summary>
    public DateTime? DownSince
    {
        get
        {
            lock (_gate)
            {
                return _downSince;
            }
        }
    }

    /// <summary>The error of the current outage's last failure, or null.</summary>
    public string? Error
    {
        get
        {
            lock (_gate)
            {
                return _error;
            }
        }
    }

    /// <summary>Outages begun on this node.</summary>
    public long Outages
    {
        get
        {
            lock (_gate)
            {
                return _outages;
            }
        }
    }

    /// <summary>
    /// Records the outcomes of one batch: each pk (any text naming it) with its result. A success
    /// (a stale refusal too: the sink answered) ends an outage; an unavailable sink counts towards
    /// one; a refused row does neither.
    /// </summary>
    public SinkVerdict Record(IEnumerable<(string Pk, ApplyResult Result)> outcomes, DateTime now)
    {
        lock (_gate)
        {
            var wasDown = _downSince;
            var success = false;
            foreach (var (pk, result) in outcomes)
            {
                if (result.Success)
                {
                    success = true;
                    continue;
                }

                if (!result.Unavailable)
                {
                    continue;
                }

                var error = result.Error;
                var kind = KindOf(error ?? "");
                if (kind != _kind)
                {
                    _kind = kind;
                    _failing.Clear();
                }

                if (_failing.Count < OutagePks)
                {
                    _failing.Add(pk);
                }

                _error = error;
            }

            if (success)
            {
                _failing.Clear();
                _kind = null;
                _downSince = null;
                _error = null;
                _failedProbes = 0;
                return new SinkVerdict(false, wasDown is null ? SinkTransition.None : SinkTransition.Up, 0, wasDown is { } since ? now - since : TimeSpan.Zero);
            }

            if (_downSince is null && _failing.Count >= OutagePks)
            {
                _downSince = now;
                _outages++;
                _failedProbes = 0;
            }

            if (_downSince is null)
            {
                return new SinkVerdict(false, SinkTransition.None, 0, TimeSpan.Zero);
            }

            _failedProbes++;
            return new SinkVerdict(true, wasDown is null ? SinkTransition.Down : SinkTransition.None, _failedProbes, now - _downSince.Value);
        }
    }

    /// <summary>
    /// True when a failure says the sink, or a source the job reads, could take no write at all: a
    /// timeout, a connection refused or lost, credentials or rights refused, a server that cannot
    /// serve (loading, read-only, out of memory). Anything else a job throws (a row it cannot encode,
    /// a table dropped at the source, a bug) is a failure of the rows it was given, never an outage.
    /// </summary>
    public static bool IsUnavailable(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsUnavailable);
                case TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException:
                case StackExchange.Redis.RedisConnectionException:
                case StackExchange.Redis.RedisServerException redis when RedisUnavailable.Any(code => redis.Message.StartsWith(code, StringComparison.Ordinal)):
                case MySqlConnector.MySqlException mysql when MySqlUnavailable.Contains(mysql.Number):
                    return true;
            }
        }

        return false;
    }

    // Redis errors that no write can get past: rights or credentials, a server loading, a replica, out of memory, a cluster not serving, a script busy.
    private static readonly string[] RedisUnavailable = ["NOPERM", "NOAUTH", "WRONGPASS", "LOADING", "READONLY", "MASTERDOWN", "OOM", "MISCONF", "CLUSTERDOWN", "TRYAGAIN", "BUSY"];

    // MySQL/MariaDB: too many connections (1040), no access to the database (1044), access denied
    // (1045), server shutting down (1053), cannot connect (1042, 2002, 2003), server gone or lost
    // (2006, 2013), no access to the table or column (1142, 1143), a privilege missing (1227).
    private static readonly HashSet<int> MySqlUnavailable = [1040, 1042, 1044, 1045, 1053, 1142, 1143, 1227, 2002, 2003, 2006, 2013];

    /// <summary>
    /// What "failing the same way" compares: an error's text up to its second colon
    /// (<c>redis: RedisConnectionException</c>), or its first 48 characters, so the details of one
    /// failure (an endpoint, a key, a count) do not make two failures of one cause look different.
    /// </summary>
    public static string KindOf(string error)
    {
        var first = error.IndexOf(':', StringComparison.Ordinal);
        var second = first < 0 ? -1 : error.IndexOf(':', first + 1);
        if (second > 0)
        {
            return error[..second];
        }

        return error.Length <= 48 ? error : error[..48];
    }
}

/// <summary>Whether the sink is down after a batch, whether that batch began or ended an outage, how many batches failed since it began, and how long it has lasted.</summary>
public readonly record struct SinkVerdict(bool Down, SinkTransition Transition, int FailedProbes, TimeSpan Duration);

public enum SinkTransition
{
    None,
    Down,
    Up,
}
