using System.Diagnostics;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>Runs the <c>replicator</c> executable as a separate process and collects its output.</summary>
public static class ReplicatorCli
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    /// <summary>Runs <c>replicator</c> with <paramref name="arguments"/>; a <c>--source</c> with a password goes over in the environment (<see cref="CliSecrets"/>).</summary>
    public static Task<Result> RunAsync(TimeSpan timeout, params string[] arguments) => RunAsync(timeout, new Dictionary<string, string>(), arguments);

    public static async Task<Result> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepoPaths.ReplicatorDll);
        CliSecrets.AddArguments(start, arguments);

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"replicator {string.Join(' ', arguments.Take(1))} did not exit within {timeout}. stderr: {await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
