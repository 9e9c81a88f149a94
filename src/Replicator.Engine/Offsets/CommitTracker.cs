using Replicator.Engine.Capture;

namespace Replicator.Engine.Offsets;

/// <summary>
/// Works out how far a capture's offset may move: to the restart point of the oldest transaction
/// with an unfinished change, plus the length of that transaction's prefix of finished row images;
/// or, when nothing is unfinished, to the end of the last transaction read. A change is finished
/// when every definition it was delivered to has applied or dead-lettered it.
/// </summary>
/// <remarks>
/// Mutable, but pure: no I/O and no clock, so property tests can drive it with any interleaving.
/// Memory is bounded by the transactions in flight and, within one, by the span of rows from its
/// oldest unfinished row to its newest emitted one (4 bytes a row), never by what is already settled.
/// A row that will not finish in this run (<see cref="Pinned"/>: a paused table's) bounds it too:
/// the offset can never pass it, so nothing after it is tracked at all, however long the table
/// stays paused.
/// </remarks>
public sealed class CommitTracker
{
    private readonly LinkedList<TransactionState> _order = new();
    private readonly Dictionary<long, LinkedListNode<TransactionState>> _byId = new();
    private readonly SortedList<long, DateTime> _pendingPrepares = new();
    private SourceOffset? _settled;

    // The earliest row that never finishes in this run (a paused table's), if any: the offset stops there.
    private (long TransactionId, int Row)? _pin;

    // The finished transactions from the head on, scanned so far, and the transaction id they must reach to settle together.
    private (LinkedListNode<TransactionState>? First, LinkedListNode<TransactionState>? Last, long Through) _run;

    /// <param name="start">The offset reading starts from, or null when it is not known until the stream says where it is.</param>
    public CommitTracker(SourceOffset? start)
    {
        _settled = start;
    }

    /// <summary>Changes emitted and not yet finished.</summary>
    public long Outstanding { get; private set; }

    /// <summary>Transactions begun and not yet settled.</summary>
    public int OpenTransactions => _order.Count;

    /// <summary>When the source logged the oldest XA prepare whose outcome is not read yet; null when none is pending.</summary>
    public DateTime? OldestPendingPrepare => _pendingPrepares.Count == 0 ? null : _pendingPrepares.Values[0];

    /// <summary>The row a paused table stops at, when one does: the offset never passes it in this run.</summary>
    public (long TransactionId, int Row)? Pin => _pin;

    /// <summary>When the source committed the oldest transaction not yet settled (the one that holds the offset); null when none is open.</summary>
    public DateTime? OldestUnsettled => _order.First?.Value.Began.CommitTime;

    public void Began(TransactionBegan began)
    {
        if (_pin is { } pin && began.TransactionId > pin.TransactionId)
        {
            return;
        }

        var state = new TransactionState(began);
        _byId[began.TransactionId] = _order.AddLast(state);
    }

    /// <summary>One delivery of the row image <paramref name="rowOrdinal"/> of a transaction was sent and awaits its ack.</summary>
    public void Emitted(long transactionId, int rowOrdinal)
    {
        if (IsPastPin(transactionId, rowOrdinal) || !_byId.TryGetValue(transactionId, out var node))
        {
            // Past a row that never finishes: the offset cannot reach this one, so it is not tracked.
            return;
        }

        node.Value.Pending.Add(rowOrdinal);
        Outstanding++;
    }

    /// <summary>
    /// The row image <paramref name="rowOrdinal"/> of a transaction will not finish in this run: its
    /// table is paused until it is fixed and the capture restarted. The offset stays before it; from
    /// here on, transactions and rows after it are not tracked (they could never move the offset),
    /// and those already tracked after it are dropped.
    /// </summary>
    public void Pinned(long transactionId, int rowOrdinal)
    {
        if (IsPastPin(transactionId, rowOrdinal) || !_byId.TryGetValue(transactionId, out var node))
        {
            return;
        }

        node.Value.Pending.Add(rowOrdinal);
        Outstanding++;
        _pin = (transactionId, rowOrdinal);
        _run = default;
        while (_order.Last != node)
        {
            var last = _order.Last!;
            Outstanding -= last.Value.Pending.Count;
            _byId.Remove(last.Value.Began.TransactionId);
            _order.RemoveLast();
        }
    }

    public void RowsSeen(long transactionId, int rowsSeen)
    {
        if (!_byId.TryGetValue(transactionId, out var node))
        {
            return;
        }

        var state = node.Value;
        state.RowsSeen = Math.Max(state.RowsSeen, rowsSeen);
    }

    /// <summary>The stream is between transactions at <paramref name="positioned"/>; with nothing open, that is where a restart may begin.</summary>
    public void Positioned(Positioned positioned)
    {
        if (_order.Count == 0 && _settled?.Position != positioned.Position)
        {
            _settled = new SourceOffset(positioned.Position, 0, _settled?.Gtid);
        }
    }

    public void Ended(TransactionEnded ended)
    {
        if (!_byId.TryGetValue(ended.TransactionId, out var node))
        {
            return;
        }

        var state = node.Value;
        state.End = ended;
        state.RowsSeen = Math.Max(state.RowsSeen, ended.RowsSeen);
        Settle();
    }

    /// <summary>
    /// An XA transaction's prepare group ended; its outcome is still to come. It does not settle
    /// until <see cref="Resolved"/>, and its held rows count as not handled until then.
    /// </summary>
    public void Prepared(TransactionPrepared prepared)
    {
        _pendingPrepares[prepared.TransactionId] = prepared.PreparedAt;
        if (!_byId.TryGetValue(prepared.TransactionId, out var node))
        {
            return;
        }

        var state = node.Value;
        state.End = new TransactionEnded(prepared.TransactionId, state.RowsSeen, prepared.NextPosition, prepared.GtidAfter);
        state.AwaitingOutcome = true;
    }

    /// <summary>
    /// A prepared XA transaction was committed (its changes were emitted before this) or rolled
    /// back, in the group <see cref="XaResolved.OutcomeTransactionId"/>. It settles together with
    /// that group, never before: an offset between the two would restart the capture at the
    /// outcome without its prepare, where the rows can no longer be told applied or lost.
    /// </summary>
    public void Resolved(XaResolved resolved)
    {
        _pendingPrepares.Remove(resolved.TransactionId);
        if (!_byId.TryGetValue(resolved.TransactionId, out var node))
        {
            return;
        }

        var state = node.Value;
        state.AwaitingOutcome = false;
        state.SettlesWith = resolved.OutcomeTransactionId;
        state.RowsSeen = Math.Max(state.RowsSeen, resolved.RowsSeen);
        Settle();
    }

    /// <summary>One delivery of a row image was applied or dead-lettered. Returns false if it was not outstanding (a duplicate ack, or a row not tracked past a pin).</summary>
    public bool Completed(long transactionId, int rowOrdinal)
    {
        if (!_byId.TryGetValue(transactionId, out var node) || !node.Value.Pending.Remove(rowOrdinal))
        {
            return false;
        }

        Outstanding--;
        Settle();
        return true;
    }

    /// <summary>The offset that is safe to persist now; null until the stream's position is known.</summary>
    public SourceOffset? Offset
    {
        get
        {
            if (_order.First is not { } first)
            {
                return _settled;
            }

            var state = first.Value;
            var handled = state.Pending.IsEmpty ? state.RowsSeen : state.Pending.Oldest;
            return new SourceOffset(state.Began.RestartPoint, handled, state.Began.GtidBefore);
        }
    }

    /// <summary>
    /// Drops the finished transactions at the head. A resolved XA prepare goes only with every
    /// transaction up to the group that logged its outcome (and, for a prepare among those, up to
    /// its own outcome's group), all finished: the run is scanned once, remembered in
    /// <see cref="_run"/>, and taken off whole.
    /// </summary>
    private void Settle()
    {
        while (_order.First is { } first && first.Value.IsFinished)
        {
            if (_run.Last is null || _run.First != first)
            {
                _run = (first, first, first.Value.SettlesThrough);
            }

            while (_run.Last!.Value.Began.TransactionId < _run.Through)
            {
                if (_run.Last.Next is not { } next || !next.Value.IsFinished)
                {
                    return;
                }

                _run = (first, next, Math.Max(_run.Through, next.Value.SettlesThrough));
            }

            var last = _run.Last;
            _run = default;
            while (true)
            {
                var head = _order.First!;
                _byId.Remove(head.Value.Began.TransactionId);
                _order.RemoveFirst();
                if (head == last)
                {
                    var end = head.Value.End!;
                    _settled = new SourceOffset(end.NextPosition, 0, end.GtidAfter);
                    break;
                }
            }
        }
    }

    private bool IsPastPin(long transactionId, int rowOrdinal) =>
        _pin is { } pin && (transactionId > pin.TransactionId || (transactionId == pin.TransactionId && rowOrdinal > pin.Row));

    private sealed class TransactionState(TransactionBegan began)
    {
        public TransactionBegan Began { get; } = began;

        /// <summary>Deliveries not yet finished, per row ordinal.</summary>
        public PendingRows Pending { get; } = new();

        public int RowsSeen { get; set; }

        public TransactionEnded? End { get; set; }

        /// <summary>A prepared XA transaction whose commit or rollback is not read yet.</summary>
        public bool AwaitingOutcome { get; set; }

        /// <summary>For a resolved XA prepare, the transaction that logged its outcome, with which it settles.</summary>
        public long? SettlesWith { get; set; }

        /// <summary>Ended, its deliveries all finished, its outcome known; it settles once those it must settle with are finished too.</summary>
        public bool IsFinished => End is not null && Pending.IsEmpty && !AwaitingOutcome;

        /// <summary>The transaction id up to which the run that settles this one reaches.</summary>
        public long SettlesThrough => Math.Max(Began.TransactionId, SettlesWith ?? 0);
    }
}
