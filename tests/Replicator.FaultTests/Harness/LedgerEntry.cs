namespace Replicator.FaultTests.Harness;

/// <summary>
/// One acknowledged change of the generator's ledger: <paramref name="Pk"/> was written with
/// <paramref name="Ver"/>, or (when <paramref name="Deleted"/>) the row holding <paramref name="Ver"/> was deleted.
/// </summary>
public sealed record LedgerEntry(long Pk, long Ver, bool Deleted, DateTime CommittedUtc);
