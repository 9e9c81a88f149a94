using System.Diagnostics;
using System.Globalization;
using Replicator.IntegrationTests.Infrastructure;

namespace Replicator.IntegrationTests;

/// <summary>
/// Rows are streamed, never buffered per transaction: one transaction of 1,000,000 rows goes
/// through <c>replicator tail</c>, a separate process, with its peak RSS under 300 MB. Runs on a
/// throwaway MariaDB so the shared server's binlog does not grow by the 40 MB this writes.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MemoryTests(ThrowawaySourceFixture source, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ThrowawaySourceFixture>
{
    private const long BudgetBytes = 300L * 1024 * 1024;
    private const int Rows = 1_000_000;

    [Fact]
    public async Task A_million_row_transaction_is_captured_by_tail_with_peak_rss_under_300_mb()
    {
        await source.Server.ExecuteAsync($"""
            CREATE DATABASE cap_big;
            CREATE TABLE cap_big.t (id INT PRIMARY KEY, v BIGINT, s VARCHAR(20), ver INT);
            USE cap_big;
            INSERT INTO cap_big.t SELECT seq, seq, 'x', 1 FROM seq_1_to_{Rows};
            """);

        var countFile = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            // stdout is counted, not kept: the output itself would be 250 MB.
            start.ArgumentList.Add("dotnet \"$0\" tail --source-env REPLICATOR_TEST_SOURCE --tables cap_big.t --from-start --until-now --server-id \"$1\" | wc -l > \"$2\"");
            start.ArgumentList.Add(RepoPaths.ReplicatorDll);
            start.ArgumentList.Add(ReplicaServerIds.Next());
            start.ArgumentList.Add(countFile);
            start.Environment["REPLICATOR_TEST_SOURCE"] = source.Cdc;

            using var shell = Process.Start(start)!;
            var stderr = shell.StandardError.ReadToEndAsync();
            long peak = 0;
            int? tailPid = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
            while (!shell.HasExited && DateTime.UtcNow < deadline)
            {
                tailPid ??= FindChild(shell.Id, "replicator.dll");
                if (tailPid is { } pid && PeakRss(pid) is { } hwm)
                {
                    peak = Math.Max(peak, hwm);
                }

                await Task.Delay(20);
            }

            if (!shell.HasExited)
            {
                shell.Kill(entireProcessTree: true);
                Assert.Fail("tail did not finish the 1,000,000-row transaction within 5 minutes");
            }

            Assert.True(shell.ExitCode == 0, await stderr);
            Assert.Equal(Rows, long.Parse((await File.ReadAllTextAsync(countFile)).Trim(), CultureInfo.InvariantCulture));
            Assert.True(tailPid is not null && peak > 0, "the tail process was never sampled");
            output.WriteLine($"tail peak RSS (VmHWM): {peak / (1024 * 1024)} MB for {Rows} rows in one transaction");
            Assert.True(peak < BudgetBytes, $"peak RSS {peak / (1024 * 1024)} MB is over the 300 MB budget");
        }
        finally
        {
            File.Delete(countFile);
            await source.Server.ExecuteAsync("DROP DATABASE cap_big");
        }
    }

    /// <summary>The child of <paramref name="parent"/> whose command line mentions <paramref name="marker"/>.</summary>
    private static int? FindChild(int parent, string marker)
    {
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                // pid (comm) state ppid …: the command name may hold spaces, so read after its ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent
                    && File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(marker, StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    /// <summary>VmHWM (the peak resident set) of a running process in bytes, or null once it is gone.</summary>
    private static long? PeakRss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }
}
