using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Replicator.Host.Logging;

/// <summary>
/// The default console format of <c>replicator run</c>: the line Akka's standard-out logger writes,
/// <c>[LEVEL][MM/dd/yyyy HH:mm:ss.fffZ][Thread n][source] message</c>, with an exception on the
/// lines after <c>Cause: </c>. Akka's events are written exactly as Akka formats them; the host's own
/// (the admin endpoint's) take the same shape with their category as the source. Operators' greps,
/// deploy/local/test.sh and the fault harness's LogFacts read this header.
/// </summary>
internal sealed class AkkaTextFormatter : ConsoleFormatter
{
    public const string FormatterName = "akka";

    public AkkaTextFormatter()
        : base(FormatterName)
    {
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        if (logEntry.State is AkkaLogEntry akka)
        {
            textWriter.Write(akka.Event.ToString());
            textWriter.Write(Environment.NewLine);
            return;
        }

        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        textWriter.Write(string.Create(CultureInfo.InvariantCulture,
            $"[{LevelName(logEntry.LogLevel)}][{DateTime.UtcNow:MM/dd/yyyy HH:mm:ss.fff}Z][Thread {Environment.CurrentManagedThreadId:0000}][{logEntry.Category}] {message}"));
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(Environment.NewLine);
            textWriter.Write("Cause: ");
            textWriter.Write(exception.ToString());
        }

        textWriter.Write(Environment.NewLine);
    }

    /// <summary>Akka's level names; critical is ERROR, the highest Akka has.</summary>
    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARNING",
        _ => "ERROR",
    };
}
