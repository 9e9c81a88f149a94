using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using MelLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Replicator.Host.Logging;

/// <summary>
/// An Akka logger (named in <c>akka.loggers</c>) that hands every log event to the host's
/// <see cref="ILoggerFactory"/>, under the category of the event's class (an actor's type,
/// <c>Akka.Cluster.Cluster</c>, …) with <see cref="AkkaLogEntry"/> as its state.
/// Akka.Hosting's LoggerFactoryLogger is not used: it logs every event under the one category
/// <c>Akka.Actor.ActorSystem</c> with Akka's whole formatted line as the message and no fields, so
/// the JSON format would carry a text line inside, and categories could not be filtered.
/// </summary>
internal sealed class AkkaLoggerBridge : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>The <c>akka.loggers</c> entry that starts this logger.</summary>
    public static readonly string TypeName = $"{typeof(AkkaLoggerBridge).FullName}, {typeof(AkkaLoggerBridge).Assembly.GetName().Name}";

    private readonly ILoggerFactory _factory;
    private readonly Dictionary<string, ILogger> _loggers = new();

    public AkkaLoggerBridge()
    {
        var setup = Context.System.Settings.Setup.Get<LoggerFactorySetup>();
        _factory = setup.HasValue
            ? setup.Value.LoggerFactory
            : throw new ConfigurationException($"akka.loggers names {nameof(AkkaLoggerBridge)}, but the actor system was started without a {nameof(LoggerFactorySetup)}.");
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(HandleLogEvent);
    }

    private void HandleLogEvent(LogEvent logEvent)
    {
        var logger = LoggerOf(logEvent);

        logger.Log(LevelOf(logEvent.LogLevel()), default, new AkkaLogEntry(logEvent), logEvent.Cause, static (entry, _) => entry.ToString());
    }

    /// <summary>
    /// The category is the event's class; events Akka logs under a plain string (remoting, the
    /// cluster: <c>Cluster (akka://replicator)</c>) are <c>Akka.&lt;first word&gt;</c>, e.g. <c>Akka.Cluster</c>.
    /// </summary>
    private ILogger LoggerOf(LogEvent logEvent)
    {
        var category = logEvent.LogClass is { } type && type != typeof(DummyClassForStringSources)
            ? type.FullName ?? type.Name
            : "Akka." + (logEvent.LogSource ?? "").Split(' ', 2)[0];
        if (!_loggers.TryGetValue(category, out var logger))
        {
            _loggers[category] = logger = _factory.CreateLogger(category);
        }

        return logger;
    }

    private static MelLogLevel LevelOf(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => MelLogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => MelLogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => MelLogLevel.Warning,
        _ => MelLogLevel.Error,
    };
}
