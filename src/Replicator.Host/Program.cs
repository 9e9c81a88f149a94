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
        return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
    }
}
