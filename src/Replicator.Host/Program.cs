using System.CommandLine;
using Replicator.Host.Commands;

namespace Replicator.Host;

/// <summary>The <c>replicator</c> executable: a thin composition root over the engine.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Replicator: change data capture from MySQL/MariaDB binlogs onto an Akka.NET cluster.")
        {
            RunCommand.Create(),
            TailCommand.Create(),
            CheckCommand.Create(),
            DeadLettersCommand.Create(),
        };
        var parsed = root.Parse(args);

        // run's host stops the node on SIGTERM and Ctrl+C and waits for it to leave the cluster;
        // System.CommandLine's own handling would end the process 2 s after the signal, with 143 or 130.
        var invocation = parsed.CommandResult.Command.Name == "run" ? new InvocationConfiguration { ProcessTerminationTimeout = null } : new InvocationConfiguration();
        return await parsed.InvokeAsync(invocation).ConfigureAwait(false);
    }
}
