namespace Replicator.FaultTests.Harness;

/// <summary>
/// Where a test run keeps its servers' data (a temporary directory, removed when the run ends) and
/// its evidence (artifacts/faults/&lt;scenario&gt;: node logs, apply ledgers, reports).
/// </summary>
public static class FaultRunDirectory
{
    private static readonly Lazy<string> RootDirectory = new(() =>
    {
        // Servers' data on tmpfs when there is one: sync-binlog=1 and appendfsync always keep their
        // meaning for kill -9 (the page cache survives a killed process), without paying for disk
        // flushes, which would make the workload generator the slowest part of the suite. A scenario
        // needs about 200 MB there; a small tmpfs (containers default to 64 MB) is not used.
        var parent = Directory.Exists("/dev/shm") && new DriveInfo("/dev/shm").AvailableFreeSpace > 1L << 30 ? "/dev/shm" : Path.GetTempPath();
        var root = Path.Combine(parent, "replicator-faults-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return root;
    });

    /// <summary>Removes the run's temporary directory (its servers must be stopped).</summary>
    public static void DeleteRoot()
    {
        if (!RootDirectory.IsValueCreated)
        {
            return;
        }

        try
        {
            Directory.Delete(RootDirectory.Value, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The run's temporary directory.</summary>
    public static string Root => RootDirectory.Value;

    /// <summary>artifacts/ at the repository root (what CI keeps).</summary>
    public static string Artifacts => Path.Combine(RepoPaths.Root, "artifacts");

    /// <summary>A fresh directory for a scenario's servers.</summary>
    public static string ForServers(string scenario)
    {
        var path = Path.Combine(Root, scenario + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A fresh directory for a scenario's evidence, emptied if an earlier run left one.</summary>
    public static string ForEvidence(string scenario)
    {
        var path = Path.Combine(Artifacts, "faults", scenario);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        Directory.CreateDirectory(path);
        return path;
    }
}
