using System.Collections.Concurrent;
using System.Diagnostics;

namespace Replicator.Testing;

/// <summary>
/// Every process the tests start, by pid, so that none outlives the test run: each test kills
/// its own on teardown, and whatever is left when the test host exits is killed then (the tests'
/// equivalent of a shell <c>trap</c>).
/// </summary>
public static class ProcessRegistry
{
    private static readonly ConcurrentDictionary<int, Process> Processes = new();

    static ProcessRegistry()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public static void Track(Process process) => Processes[process.Id] = process;

    /// <summary>kill -9 one tracked process and wait until it is gone.</summary>
    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }

        Processes.TryRemove(process.Id, out _);
    }

    /// <summary>Forgets a process that exited on its own.</summary>
    public static void Forget(Process process) => Processes.TryRemove(process.Id, out _);

    private static void KillAll()
    {
        foreach (var process in Processes.Values)
        {
            Kill(process);
        }
    }
}
