using System.Text.Json;
using Akka.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Replicator.Host.Logging;

/// <summary>
/// The log of <c>replicator run</c>: Akka's events and the host's own go through one
/// Microsoft.Extensions.Logging console logger on standard output, in the <see cref="LogFormat"/> asked for.
/// </summary>
internal static class NodeLogging
{
    /// <summary>A console logger in <paramref name="format"/>. Akka's events pass at every level: akka.loglevel already chose them; Microsoft.* (hosting, Kestrel) from Warning.</summary>
    public static ILoggingBuilder AddNodeConsole(this ILoggingBuilder logging, LogFormat format)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Debug);
        logging.AddFilter("Microsoft", LogLevel.Warning);

        // The host logs a service that fails to start or stop with its stack trace, then throws the
        // exception; run reports a configuration error in one line (Errors.Report) and lets any
        // other end the process, which prints it, so the host's copy would only repeat it.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        if (format == LogFormat.Json)
        {
            logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.JsonWriterOptions = new JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddConsole(console => console.FormatterName = AkkaTextFormatter.FormatterName);
            logging.AddConsoleFormatter<AkkaTextFormatter, ConsoleFormatterOptions>();
        }

        return logging;
    }

    /// <summary>
    /// The Akka settings that route the node's log through <see cref="AkkaLoggerBridge"/>; they take
    /// precedence over the node's file. Akka's standard-out logger still writes what happens before
    /// the bridge starts and after it stops (the last moments of a shutdown); in JSON it is off, so
    /// that every line of standard output is a JSON object.
    /// </summary>
    public static Config AkkaConfig(LogFormat format) => ConfigurationFactory.ParseString(
        $"akka.loggers = [\"{AkkaLoggerBridge.TypeName}\"]" + (format == LogFormat.Json ? "\nakka.stdout-loglevel = OFF" : ""));
}
