using Replicator.Engine.Model;
using Replicator.Engine.Serialization;

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
/// The dead-letter store's entries: the answer to <see cref="ListDeadLetters"/>. Also the store's
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

/// <summary>Asks the dead-letter store for its entries.</summary>
public sealed record ListDeadLetters : IReplicatorWireMessage
{
    public static ListDeadLetters Instance { get; } = new();
}

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
