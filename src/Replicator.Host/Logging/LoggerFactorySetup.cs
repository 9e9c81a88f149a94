using Akka.Actor.Setup;
using Microsoft.Extensions.Logging;

namespace Replicator.Host.Logging;

/// <summary>Carries the host's <see cref="ILoggerFactory"/> into the actor system, where <see cref="AkkaLoggerBridge"/> finds it.</summary>
internal sealed class LoggerFactorySetup(ILoggerFactory loggerFactory) : Setup
{
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;
}
