using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Replicator.Testing;

/// <summary>
/// The programs the tests run (MariaDB, Redis, dotnet) and how they start them: each as a child
/// process whose output goes to a log file, with its pid known so a test can kill -9 it.
/// </summary>
public static class Tools
{
    private static readonly string[] SearchDirectories = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];

    /// <summary>The full path of <paramref name="program"/>, or a failure that says how to install it.</summary>
    public static string Require(string program, string package)
    {
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(':', StringSplitOptions.RemoveEmptyEntries) ?? [];
        foreach (var dir in path.Concat(SearchDirectories))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"{program} is not installed: the tests run private MariaDB and Redis servers of their own. Install the Debian package {package} (deploy/local/servers.sh start installs it).");
    }

    /// <summary>
    /// Starts <paramref name="file"/> with its stdout and stderr appended to <paramref name="logPath"/>.
    /// The shell execs the program, so the returned process (and its pid) is the program itself.
    /// </summary>
    public static Process Spawn(string file, IEnumerable<string> arguments, string logPath, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true };
        start.ArgumentList.Add("-c");
        // No core files: crash points abort a node on purpose (SIGABRT).
        start.ArgumentList.Add("ulimit -c 0; exec \"$@\" </dev/null >>\"$0\" 2>&1");
        start.ArgumentList.Add(logPath);
        start.ArgumentList.Add(file);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        ProcessRegistry.Track(process);
        return process;
    }

    /// <summary>Runs a program to completion and fails with its output when it exits non-zero.</summary>
    public static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited {process.ExitCode}: {await stderr}{await stdout}");
        }
    }

    /// <summary>Sends a signal (STOP, CONT, ...) to a process with kill(1).</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} failed with exit code {kill.ExitCode}.");
        }
    }

    /// <summary>A TCP port on 127.0.0.1 nobody listens on right now (not reserved: bind it soon).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Distinct free ports.</summary>
    public static int[] FreePorts(int count)
    {
        var ports = new HashSet<int>();
        while (ports.Count < count)
        {
            ports.Add(FreePort());
        }

        return [.. ports];
    }

    /// <summary>The last <paramref name="lines"/> lines of a text file, or a note that it does not exist.</summary>
    public static string Tail(string path, int lines)
    {
        if (!File.Exists(path))
        {
            return $"({path} does not exist)";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var queue = new Queue<string>(lines);
        while (reader.ReadLine() is { } line)
        {
            if (queue.Count == lines)
            {
                queue.Dequeue();
            }

            queue.Enqueue(line.Length > 400 ? line[..400] + "…" : line);
        }

        return string.Join('\n', queue);
    }

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.EnumerateDirectories(from))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }
}
