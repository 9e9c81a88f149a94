using System.Text.Json.Serialization;

namespace Replicator.Host.Admin;

/// <summary>GET /status: the captures and this node's counters of each definition.</summary>
internal sealed record StatusDto(IReadOnlyList<SourceStatusDto> Sources, IReadOnlyList<DefinitionStatusDto> Definitions);

/// <summary>
/// One source in /status; only <see cref="Name"/> and <see cref="State"/> when its capture did not answer.
/// <see cref="OffsetServer"/> is left out until an offset was persisted with its server's identity.
/// </summary>
internal sealed record SourceStatusDto(
    string Name,
    string State,
    string? PersistedOffset = null,
    string? CurrentOffset = null,
    long? ChangesCaptured = null,
    long? Outstanding = null,
    long? Reconnects = null,
    string? LastError = null,
    string? LastCommit = null,
    SourceServerDto? OffsetServer = null);

/// <summary>The source server the persisted offset was read from, and is bound to: a capture refuses to resume its binlog position on another server.</summary>
internal sealed record SourceServerDto(uint ServerId, string? ServerUuid, string Endpoint);

internal sealed record DefinitionStatusDto(
    string Name,
    long Received,
    long Applied,
    long Coalesced,
    long Duplicates,
    long StaleRefused,
    long Failures,
    long DeadLettered,
    string Sink = "up",
    string? SinkDownSince = null,
    string? SinkError = null);

/// <summary>One entry of GET /dead-letters/&lt;definition&gt;.</summary>
internal sealed record DeadLetterDto(
    string Schema,
    string Table,
    string Pk,
    string Action,
    string Version,
    string Error,
    int Attempts,
    string FirstFailure,
    string LastFailure);

/// <summary>
/// GET /dead-letters/&lt;definition&gt;?offset=&amp;limit=: at most <see cref="Limit"/> letters from
/// <see cref="Offset"/>, oldest parked first, of the store's <see cref="Total"/>; <see cref="Next"/> is the
/// offset of the next page, null (written, not left out) on the last one.
/// </summary>
internal sealed record DeadLetterPageDto(
    int Total,
    int Offset,
    int Limit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? Next,
    IReadOnlyList<DeadLetterDto> Entries);

internal sealed record RetryingDto(int Retrying);

internal sealed record PurgedDto(int Purged);

/// <summary>The admin endpoint's JSON, generated at build time; names in snake_case as the endpoint has always written them.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(StatusDto))]
[JsonSerializable(typeof(DeadLetterPageDto))]
[JsonSerializable(typeof(RetryingDto))]
[JsonSerializable(typeof(PurgedDto))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
