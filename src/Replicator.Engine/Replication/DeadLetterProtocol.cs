using Replicator.Engine.Serialization;
using Replicator.Model;

namespace Replicator.Engine.Replication;

/// <summary>A pk's change that ran out of attempts, as the dead-letter store keeps it (persisted).</summary>
public sealed record DeadLetterParked(
    string Definition,
    int Bucket,
    RowChange Change,
    string Error,
    int Attempts,
    DateTime FirstFailure,
    DateTime LastFailure) : IReplicatorWireMessage;

/// <summary>
/// The dead-letter store's first page: the answer to <see cref="ListDeadLetters"/>. Also the store's
/// snapshot as versions before park sequences wrote it (still read from snapshot stores).
/// </summary>
public sealed record DeadLetterStoreSnapshot(IReadOnlyList<DeadLetterParked> Entries) : IReplicatorWireMessage;

/// <summary>The dead-letter store's whole state, as a snapshot: its entries with their park sequences, and the last sequence given.</summary>
public sealed record DeadLetterStoreState(long LastParkSequence, IReadOnlyList<StoredDeadLetter> Entries) : IReplicatorWireMessage;

/// <summary>An entry of the dead-letter store and the park sequence it was stored under.</summary>
public sealed record StoredDeadLetter(long ParkSequence, DeadLetterParked Letter);

/// <summary>The dead-letter store persisted a <see cref="DeadLetterParked"/>.</summary>
public sealed record DeadLetterAccepted : IReplicatorWireMessage
{
    public static DeadLetterAccepted Instance { get; } = new();
}

/// <summary>
/// Asked by versions before paged listings: answered with a <see cref="DeadLetterStoreSnapshot"/> of
/// the first page only (as <see cref="ListDeadLetterPage"/> at offset 0 with the default limit), so
/// a large store never makes one giant reply.
/// </summary>
public sealed record ListDeadLetters : IReplicatorWireMessage
{
    public static ListDeadLetters Instance { get; } = new();
}

/// <summary>
/// Asks the dead-letter store for at most <paramref name="Limit"/> entries from <paramref name="Offset"/>,
/// oldest parked first; answered by a <see cref="DeadLetterPage"/>. A limit is between 1 and
/// <see cref="MaxLimit"/>; a page is also cut when its letters would make too large a message.
/// </summary>
public sealed record ListDeadLetterPage(int Offset, int Limit) : IReplicatorWireMessage
{
    /// <summary>The number of letters a page carries unless asked for another.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The most letters one page carries.</summary>
    public const int MaxLimit = 1000;

    public static ListDeadLetterPage First { get; } = new(0, DefaultLimit);
}

/// <summary>
/// A page of the dead-letter store: <paramref name="Entries"/> from <paramref name="Offset"/> of the
/// store's <paramref name="Total"/>, oldest parked first, and the offset of the next page
/// (<paramref name="Next"/>, null when this page reaches the end).
/// </summary>
public sealed record DeadLetterPage(int Total, int Offset, IReadOnlyList<DeadLetterParked> Entries, int? Next) : IReplicatorWireMessage;

/// <summary>Removes every entry of the dead-letter store; replies with the number removed.</summary>
public sealed record PurgeDeadLetters : IReplicatorWireMessage
{
    public static PurgeDeadLetters Instance { get; } = new();
}

/// <summary>How many entries a purge removed.</summary>
public sealed record DeadLettersPurged(int Count) : IReplicatorWireMessage;

/// <summary>Sends every dead letter of the definition to its bucket again; replies <see cref="DeadLettersRetrying"/>.</summary>
public sealed record RetryDeadLetters : IReplicatorWireMessage
{
    public static RetryDeadLetters Instance { get; } = new();
}

/// <summary>How many dead letters a retry sent; each leaves the store once its bucket finished it.</summary>
public sealed record DeadLettersRetrying(int Count) : IReplicatorWireMessage;

/// <summary>
/// Persisted by versions before park sequences: a retried dead letter was finished and left the
/// store unless its failure time was after <paramref name="RetriedAt"/> (a comparison of two
/// clocks). Still read from journals, and applied as it was then.
/// </summary>
public sealed record DeadLetterCleared(string Schema, string Table, string Pk, DateTime RetriedAt) : IReplicatorWireMessage;

/// <summary>
/// Persisted: a retried dead letter was finished by its bucket (applied, refused as stale, or
/// parked again), so the entry stored under <paramref name="ParkSequence"/> leaves the store. An
/// entry parked again since the retry sent it has a newer park sequence and stays: the store's own
/// order decides, not a clock.
/// </summary>
public sealed record DeadLetterResolved(long ParkSequence) : IReplicatorWireMessage;
