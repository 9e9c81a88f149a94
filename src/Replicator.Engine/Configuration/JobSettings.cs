using Akka.Configuration;

namespace Replicator.Engine.Configuration;

/// <summary>
/// A definition's job: its type (<c>redis-cache</c>, <c>log</c>, or a class name) and its whole
/// config object, which the job's factory reads.
/// </summary>
public sealed record JobSettings(string Type, Config Config, string Path)
{
    /// <summary>The redis-cache job's keys, for validation and for the job itself.</summary>
    internal static readonly string[] KnownKeys = ["type", "redis", "key-prefix", "tombstone-ttl"];

    public override string ToString() => $"job {Type}";
}
