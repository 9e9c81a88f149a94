using Replicator.Binlog.Positions;
using Replicator.Model;

namespace Replicator.Engine.Capture;

/// <summary>What the <see cref="ChangeExtractor"/> makes of the binlog: transaction boundaries and row changes, in source order.</summary>
public abstract record CaptureItem;

/// <summary>
/// A transaction (event group) starts. <paramref name="RestartPoint"/> is the position of its first
/// event (GTID, or BEGIN without GTIDs); <paramref name="GtidBefore"/> the MariaDB GTID position
/// before it, when known. A restart from this point re-reads the whole transaction.
/// <paramref name="CommitTime"/> is when the source committed it, when known.
/// </summary>
public sealed record TransactionBegan(long TransactionId, BinlogPosition RestartPoint, string? GtidBefore, DateTime? CommitTime = null) : CaptureItem;

/// <summary>
/// A row change of transaction <paramref name="TransactionId"/>. <paramref name="RowOrdinal"/> counts
/// the row images of the transaction from 0, over every table (captured or not), so it is the same
/// on every re-read; a pk-changing UPDATE yields two changes with one ordinal.
/// </summary>
public sealed record ChangeCaptured(long TransactionId, int RowOrdinal, RowChange Change) : CaptureItem;

/// <summary>Every row of the transaction up to <paramref name="RowsSeen"/> has been captured (emitted after each rows event).</summary>
public sealed record RowsCounted(long TransactionId, int RowsSeen) : CaptureItem;

/// <summary>
/// The transaction is committed. <paramref name="NextPosition"/> is where the next transaction
/// starts; <paramref name="GtidAfter"/> the MariaDB GTID position including this transaction.
/// </summary>
public sealed record TransactionEnded(long TransactionId, int RowsSeen, BinlogPosition NextPosition, string? GtidAfter) : CaptureItem;

/// <summary>A DDL statement changed a table; cached metadata for it must be dropped.</summary>
public sealed record SchemaChanged(string? Schema, string? Table, string Sql) : CaptureItem;

/// <summary>The stream is at <paramref name="Position"/> between transactions (a ROTATE at dump start or at the end of a file).</summary>
public sealed record Positioned(BinlogPosition Position) : CaptureItem;

/// <summary>
/// The changes of <paramref name="Table"/> cannot be captured faithfully from row
/// <paramref name="RowOrdinal"/> of the transaction on: its rows cannot be mapped (no key, or
/// columns that do not match its metadata), or a statement changed its rows without row events
/// and the table needs a resync. They are held back: the offset must not pass that row until the
/// table is fixed (<paramref name="Fix"/> says how) and the capture restarted.
/// </summary>
public sealed record TablePaused(long TransactionId, int RowOrdinal, string Table, string Reason, string? Fix = null) : CaptureItem;

/// <summary>
/// The <c>XA PREPARE</c> group of an XA transaction ended at <paramref name="NextPosition"/>. Its
/// row changes are held, not emitted, until an <see cref="XaResolved"/> for it: the transaction
/// must not settle before, so the offset stays at its restart point.
/// </summary>
/// <param name="PreparedAt">When the source logged the prepare.</param>
public sealed record TransactionPrepared(long TransactionId, string Xid, BinlogPosition NextPosition, string? GtidAfter, DateTime PreparedAt) : CaptureItem;

/// <summary>
/// The prepared XA transaction <paramref name="TransactionId"/> was committed (its held changes
/// were emitted just before, as changes of that transaction) or rolled back (they were dropped)
/// in the group <paramref name="OutcomeTransactionId"/>. All its <paramref name="RowsSeen"/> row
/// images are now handled once its emitted changes are finished; it settles with that group.
/// </summary>
public sealed record XaResolved(long TransactionId, string Xid, bool Committed, int RowsSeen, long OutcomeTransactionId) : CaptureItem;

/// <summary>Something in the stream the extractor handled in the safest way it knows, for the capture to log as a warning.</summary>
public sealed record CaptureWarning(string Message) : CaptureItem;

/// <summary>
/// The XA transaction prepared by <paramref name="TransactionId"/> from <paramref name="PrepareAt"/>
/// committed, but its rows were too many to hold until then and were dropped. They must be read
/// again: nothing after this item stands; the capture reads again from its offset (at or before
/// <paramref name="PrepareAt"/>), telling the extractor this outcome (<see cref="ChangeExtractor.KnownXaOutcomes"/>).
/// </summary>
public sealed record XaRereadNeeded(long TransactionId, string Xid, BinlogPosition PrepareAt, bool Committed) : CaptureItem;

/// <summary>The outcome of the XA transaction <paramref name="Xid"/> (as <see cref="Replicator.Binlog.Events.XaId"/> writes it).</summary>
public sealed record XaOutcome(string Xid, bool Committed);

/// <summary>
/// The source knows which server it reads (before its first change): offsets saved from now on name
/// it. <paramref name="Changed"/>: it is not the server the saved offset names (a failover reached by GTID).
/// </summary>
public sealed record SourceIdentified(Offsets.SourceServer Server, bool Changed) : CaptureItem;
