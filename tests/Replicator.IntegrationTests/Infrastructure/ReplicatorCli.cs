using System.Diagnostics;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>Runs the <c>replicator</c> executable as a separate process and collects its output.</summary>
public static class ReplicatorCli
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<Result> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepoPaths.ReplicatorDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
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
