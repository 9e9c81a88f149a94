using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Replicator.Bench.Pipeline;

/// <summary>
/// The CPU time a pipeline cost over its timed run, split by process: this one (the replicator
/// or the minimal pipeline), Redis (its INFO cpu) and MariaDB (its /proc stat, found by the pid
/// file deploy/local exports). Everything runs on one machine, so their sum is the pipeline's cost.
/// </summary>
internal sealed class CpuUse
{
    private readonly ConnectionMultiplexer _redis;
    private readonly TimeSpan _self;
    private readonly double _redisSeconds;
    private readonly double _mariaDbSeconds;

    private CpuUse(ConnectionMultiplexer redis, TimeSpan self, double redisSeconds, double mariaDbSeconds)
    {
        _redis = redis;
        _self = self;
        _redisSeconds = redisSeconds;
        _mariaDbSeconds = mariaDbSeconds;
    }

    public double SelfSeconds { get; private set; }

    public double RedisSeconds { get; private set; }

    public double MariaDbSeconds { get; private set; }

    public static async Task<CpuUse> StartAsync(ConnectionMultiplexer redis) =>
        new(redis, Process.GetCurrentProcess().TotalProcessorTime, await RedisCpuAsync(redis), MariaDbCpu());

    public async Task<CpuUse> StopAsync()
    {
        SelfSeconds = (Process.GetCurrentProcess().TotalProcessorTime - _self).TotalSeconds;
        RedisSeconds = await RedisCpuAsync(_redis) - _redisSeconds;
        MariaDbSeconds = MariaDbCpu() - _mariaDbSeconds;
        return this;
    }

    public string Describe(long changes) =>
        $"replicator {Micro(SelfSeconds, changes)}, redis {Micro(RedisSeconds, changes)}, mariadb {Micro(MariaDbSeconds, changes)}";

    public string Row(string workload, string pipeline, long changes, TimeSpan elapsed)
    {
        var total = SelfSeconds + RedisSeconds + MariaDbSeconds;
        return $"| {workload} | {pipeline} | {Micro(SelfSeconds, changes)} | {Micro(RedisSeconds, changes)} | {Micro(MariaDbSeconds, changes)} | {Micro(total, changes)} | {total / elapsed.TotalSeconds:0.00} |";
    }

    private static string Micro(double seconds, long changes) => (seconds * 1e6 / changes).ToString("0.0", CultureInfo.InvariantCulture);

    private static async Task<double> RedisCpuAsync(ConnectionMultiplexer redis)
    {
        var info = (await redis.GetServers()[0].InfoAsync("cpu")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        return double.Parse(info["used_cpu_user"], CultureInfo.InvariantCulture) + double.Parse(info["used_cpu_sys"], CultureInfo.InvariantCulture);
    }

    /// <summary>MariaDB's user+system CPU seconds, or 0 when its pid file is not known.</summary>
    private static double MariaDbCpu()
    {
        var pidFile = Environment.GetEnvironmentVariable("REPLICATOR_MARIADB_PIDFILE");
        if (pidFile is null || !File.Exists(pidFile))
        {
            return 0;
        }

        var stat = File.ReadAllText($"/proc/{File.ReadAllText(pidFile).Trim()}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of /proc/pid/stat; fields here start at field 3.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
