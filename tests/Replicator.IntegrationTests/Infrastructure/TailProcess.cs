using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>A <c>replicator tail</c> that keeps following the binlog, read line by line while the test writes.</summary>
public sealed class TailProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<JsonObject> _lines = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _reader;

    private TailProcess(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadAsync);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public static TailProcess Start(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepoPaths.ReplicatorDll);
        start.ArgumentList.Add("tail");
        CliSecrets.AddArguments(start, arguments);

        return new TailProcess(Process.Start(start)!);
    }

    /// <summary>Waits until at least <paramref name="count"/> changes were printed and returns them all.</summary>
    public async Task<List<JsonObject>> WaitForLinesAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            lock (_lines)
            {
                if (_lines.Count >= count)
                {
                    return _lines.ToList();
                }
            }

            if (_process.HasExited && _reader.IsCompleted)
            {
                break;
            }

            await Task.Delay(50);
        }

        lock (_lines)
        {
            throw new TimeoutException($"tail printed {_lines.Count} of {count} changes (exited: {_process.HasExited}). stderr: {StandardError}");
        }
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var node = JsonNode.Parse(line)!.AsObject();
            lock (_lines)
            {
                _lines.Add(node);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        await _reader.ConfigureAwait(false);
        _process.Dispose();
    }
}
