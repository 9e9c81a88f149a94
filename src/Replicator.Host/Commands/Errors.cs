namespace Replicator.Host.Commands;

/// <summary>How commands report a failure: one line on stderr, and exit code 1.</summary>
internal static class Errors
{
    public static int Report(string message)
    {
        Console.Error.WriteLine($"replicator: error: {message.ReplaceLineEndings(" ")}");
        return 1;
    }
}
