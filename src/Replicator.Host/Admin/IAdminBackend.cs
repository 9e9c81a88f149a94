using System.Diagnostics.Metrics;

namespace Replicator.Host.Admin;

/// <summary>What the admin endpoint serves: a node (<see cref="NodeAdminBackend"/>), or a fake in tests.</summary>
internal interface IAdminBackend
{
    Task<StatusDto> StatusAsync();

    /// <summary>The node's instruments, served on /metrics in the Prometheus text format.</summary>
    Meter Meter { get; }

    bool HasDefinition(string definition);

    /// <summary>A page of the definition's dead letters: at most <paramref name="limit"/> from <paramref name="offset"/>.</summary>
    Task<DeadLetterPageDto> ListDeadLettersAsync(string definition, int offset, int limit);

    /// <summary>Sends the definition's dead letters to their buckets again; returns how many.</summary>
    Task<int> RetryDeadLettersAsync(string definition);

    /// <summary>Deletes the definition's dead letters; returns how many.</summary>
    Task<int> PurgeDeadLettersAsync(string definition);
}
