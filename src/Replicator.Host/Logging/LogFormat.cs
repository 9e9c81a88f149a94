namespace Replicator.Host.Logging;

/// <summary>How <c>replicator run</c> writes its log on standard output (<c>--log-format</c>).</summary>
internal enum LogFormat
{
    /// <summary>Akka's line format, <c>[LEVEL][MM/dd/yyyy HH:mm:ss.fffZ][Thread n][source] message</c>, for every line, the admin endpoint's included.</summary>
    Text,

    /// <summary>One JSON object per line (Microsoft.Extensions.Logging's JSON console formatter).</summary>
    Json,
}
