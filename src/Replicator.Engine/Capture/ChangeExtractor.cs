using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Replicator.Binlog.Columns;
using Replicator.Binlog.Events;
using Replicator.Binlog.Parsers;
using Replicator.Binlog.Positions;
using Replicator.Model;

namespace Replicator.Engine.Capture;

/// <summary>
/// Turns decoded binlog events into row changes and transaction boundaries. Pure and
/// single-threaded: the capture actor and <c>replicator tail</c> both feed it, and tests drive it
/// with hand-made events.
/// </summary>
/// <remarks>
/// Transactions are MariaDB/MySQL event groups: a GTID event (or BEGIN when the server writes no
/// GTIDs) opens one; XID, COMMIT or ROLLBACK closes it; a DDL statement is a group of its own.
/// Events of a MySQL 8 TRANSACTION_PAYLOAD are taken in order at the payload's position.
/// <para>
/// An XA transaction's <c>XA PREPARE</c> is a group of its own (MariaDB 10.5+: a GTID flagged
/// FL_PREPARED_XA; MySQL 5.7.7+: <c>XA START</c>), ended by an XA_PREPARE event, and its outcome
/// is a later group (<c>XA COMMIT</c> or <c>XA ROLLBACK</c>). Its row changes are held here, not
/// emitted, until that outcome: emitted at the commit (still as rows of the prepare's
/// transaction, so the offset stays at the prepare's restart point until they are finished), and
/// dropped at the rollback. A restart before the outcome reads the prepare again and holds its
/// rows again. <c>XA COMMIT … ONE PHASE</c> is one group that commits as it ends.
/// </para>
/// <para>
/// Held rows are bounded (<see cref="MaxHeldChanges"/>, <see cref="MaxHeldBytes"/>, over every
/// pending prepare). A prepare that would pass the bound drops what it holds and holds nothing
/// more; the offset stays at its start meanwhile, as for any pending prepare. Rolled back, it
/// needs nothing; committed, its outcome is told as <see cref="XaRereadNeeded"/>, and the capture
/// reads again from its start with the outcome known (<see cref="KnownXaOutcomes"/>), so that
/// this time its rows go out as they are read, under flow control.
/// </para>
/// </remarks>
public sealed partial class ChangeExtractor
{
    private readonly string _source;
    private readonly TableFilter _filter;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _keyColumns;
    private readonly bool _allowKeyless;
    private readonly bool _pauseUnmappable;
    private readonly bool _strictPartialJson;
    private readonly Dictionary<string, string> _paused = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConditionalWeakTable<TableSchema, TableShape> _shapes = new();
    private readonly Dictionary<XaId, Transaction> _prepared = new();
    private readonly HashSet<string> _resyncSkipped = new(StringComparer.OrdinalIgnoreCase);
    private int _heldChanges;
    private long _heldBytes;

    private string _file = "";
    private long _fileSequence;
    private long _nextTransactionId = 1;
    private Transaction? _open;
    private PendingGroupStart? _pendingStart;
    private MariaDbGtidPosition _gtids;
    private ResumePoint? _resume;
    private long _rankOf;
    private ulong _rank;

    // The table of the last rows event while no table is paused, whether it is captured, and its shape.
    private TableSchema? _lastTable;
    private bool _lastCaptured;
    private TableShape? _lastShape;

    /// <param name="source">The source's configured name, carried in every change.</param>
    /// <param name="filter">Tables whose rows become changes; rows of other tables are only counted.</param>
    /// <param name="keyColumns">Key columns for tables without a primary key, by <c>schema.table</c>.</param>
    /// <param name="resume">Where reading starts: the restart point and how many rows of that transaction were already handled.</param>
    /// <param name="gtids">The MariaDB GTID position at the start, when known.</param>
    /// <param name="allowKeyless">Give rows of tables without a known key an empty pk instead of failing (for <c>tail</c> of offline files).</param>
    /// <param name="pauseUnmappable">
    /// Pause a table whose rows cannot be mapped (no key, columns that do not match) instead of
    /// failing the stream: its rows are counted but not emitted, and a <see cref="TablePaused"/>
    /// item holds the offset back at its first row, so nothing of it is lost while the other
    /// tables go on.
    /// </param>
    /// <param name="strictPartialJson">
    /// A partial JSON update whose before image lacks the document fails the table (capture, where
    /// sinks need whole rows); otherwise the diff is kept as the column's value (tail).
    /// </param>
    public ChangeExtractor(
        string source,
        TableFilter filter,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? keyColumns = null,
        ResumePoint? resume = null,
        MariaDbGtidPosition? gtids = null,
        bool allowKeyless = false,
        bool pauseUnmappable = false,
        bool strictPartialJson = false)
    {
        _strictPartialJson = strictPartialJson;
        _allowKeyless = allowKeyless;
        _pauseUnmappable = pauseUnmappable;
        _source = source;
        _filter = filter;
        _keyColumns = keyColumns ?? new Dictionary<string, IReadOnlyList<string>>();
        _resume = resume is { SkipRows: > 0 } ? resume : null;
        _gtids = gtids ?? MariaDbGtidPosition.Empty;
        if (resume is not null)
        {
            SetFile(resume.Position.File);
        }
    }

    /// <summary>The binlog file the last event came from.</summary>
    public string File => _file;

    /// <summary>Tables paused because their rows cannot be mapped, with the reason.</summary>
    public IReadOnlyDictionary<string, string> PausedTables => _paused;

    /// <summary>True while a transaction is open.</summary>
    public bool InTransaction => _open is not null;

    /// <summary>
    /// Statements before this position that changed a table's rows without row events do not stop
    /// the table: the operator resynced it through here (the source's resynced-through).
    /// </summary>
    public BinlogPosition? ResyncedThrough { get; init; }

    /// <summary>
    /// The DDL known between row events and the positions their column names were read as of
    /// (names from information_schema, without binlog_row_metadata=FULL). A table whose rows would
    /// be labelled with names read after a DDL on it that lies after the rows is stopped for a
    /// resync instead (see <see cref="Schema.DdlHistory"/>); null: no such check (names come from the events).
    /// </summary>
    public Schema.DdlHistory? SchemaHistory { get; init; }

    /// <summary>XA transactions prepared and not yet committed or rolled back, whose rows are held.</summary>
    public int PreparedXaCount => _prepared.Count;

    /// <summary>Row changes held for pending XA prepares (and the open one), over all of them.</summary>
    public int HeldChanges => _heldChanges;

    /// <summary>The estimated wire size of the held row changes.</summary>
    public long HeldBytes => _heldBytes;

    /// <summary>
    /// At most this many row changes are held for pending XA prepares at once (the capture sets
    /// replicator.capture.max-held-xa-changes; unbounded by default, for tail, which cannot re-read).
    /// </summary>
    public int MaxHeldChanges { get; init; } = int.MaxValue;

    /// <summary>At most this many estimated bytes of row changes are held for pending XA prepares at once (max-held-xa-bytes).</summary>
    public long MaxHeldBytes { get; init; } = long.MaxValue;

    /// <summary>
    /// Outcomes of XA transactions already read, by the restart point of their prepare group: such
    /// a prepare's rows are emitted as they are read (committed) or dropped (rolled back) rather
    /// than held. The capture passes them after an <see cref="XaRereadNeeded"/>.
    /// </summary>
    public IReadOnlyDictionary<BinlogPosition, XaOutcome> KnownXaOutcomes { get; init; } = new Dictionary<BinlogPosition, XaOutcome>();

    /// <summary>Processes one event, appending what it means to <paramref name="output"/>.</summary>
    /// <exception cref="BinlogFormatException">
    /// Processing failed unexpectedly (a bug): the exception names the event's type, file and
    /// position, and the event is not skipped. A table that cannot be mapped fails with
    /// <see cref="TableMappingException"/> or <see cref="MissingKeyException"/> instead.
    /// </exception>
    public void Process(BinlogEvent binlogEvent, List<CaptureItem> output)
    {
        try
        {
            ProcessEvent(binlogEvent, output);
        }
        catch (Exception e) when (e is not (TableMappingException or MissingKeyException or BinlogFormatException or OperationCanceledException))
        {
            var file = binlogEvent.File.Length > 0 ? binlogEvent.File : _file;
            throw new BinlogFormatException(
                $"Processing the {binlogEvent.Type} event failed unexpectedly ({e.GetType().Name}: {e.Message}). It is a bug in Replicator, not in the source: the capture stops here rather than skip the event; report it with this file and position",
                file,
                binlogEvent.Header.Position,
                e);
        }
    }

    private void ProcessEvent(BinlogEvent binlogEvent, List<CaptureItem> output)
    {
        switch (binlogEvent)
        {
            case RotateEvent rotate:
                SetFile(rotate.NextFile);
                if (_open is null)
                {
                    output.Add(new Positioned(new BinlogPosition(rotate.NextFile, rotate.NextPosition)));
                }

                return;
            case TransactionPayloadEvent payload:
                var at = payload.Header.Position;
                foreach (var inner in payload.Events)
                {
                    Handle(inner, at, payload.Header.NextPosition, output);
                }

                return;
            case TransactionPayloadPart part:
                // One inner event of a streamed payload: handled exactly as the loop above handles it.
                Handle(part.Event, part.Header.Position, part.Header.NextPosition, output);
                return;
            default:
                if (binlogEvent.File.Length > 0 && binlogEvent.File != _file)
                {
                    SetFile(binlogEvent.File);
                }

                Handle(binlogEvent, binlogEvent.Header.Position, binlogEvent.Header.NextPosition, output);
                return;
        }
    }

    private void Handle(BinlogEvent binlogEvent, long position, long nextPosition, List<CaptureItem> output)
    {
        switch (binlogEvent)
        {
            case MariaDbGtidEvent gtid:
                if (_open is not null)
                {
                    Abandon(new BinlogPosition(_file, position), output);
                }

                _pendingStart = new PendingGroupStart(position, binlogEvent.Header.Timestamp, gtid.Gtid.ToString(), gtid.Gtid, gtid.IsStandalone)
                {
                    Xa = gtid.IsPreparedXa ? gtid.Xid : null,
                };
                if (!gtid.IsStandalone)
                {
                    // A MariaDB GTID of a transactional group is followed by BEGIN; open the group here so
                    // the restart point is the GTID event itself.
                    Open(output);
                }

                return;
            case MySqlGtidEvent gtid:
                if (_open is not null)
                {
                    Abandon(new BinlogPosition(_file, position), output);
                }

                var commitTime = gtid.ImmediateCommitTimestamp is { } micros and > 0
                    ? DateTime.UnixEpoch.AddTicks((long)micros * 10)
                    : (DateTime?)null;
                _pendingStart = new PendingGroupStart(
                    position,
                    binlogEvent.Header.Timestamp,
                    gtid.IsAnonymous ? null : FormatMySqlGtid(gtid),
                    null,
                    Standalone: false,
                    commitTime);
                return;
            case QueryEvent query:
                HandleQuery(query, position, nextPosition, output);
                return;
            case TableMapEvent:
                if (_open is null)
                {
                    OpenImplicit(position, binlogEvent.Header.Timestamp, output);
                }

                return;
            case RowsEvent rows:
                if (_open is null)
                {
                    OpenImplicit(position, binlogEvent.Header.Timestamp, output);
                }

                HandleRows(rows, position, output);
                return;
            case XidEvent:
                Close(nextPosition, output);
                return;
            case XaPrepareEvent prepare:
                HandleXaPrepare(prepare, position, nextPosition, output);
                return;
        }
    }

    /// <summary>
    /// The end of an XA transaction's prepare group. One phase: it commits here, with its rows.
    /// Otherwise its rows stay held under its XID until the group that commits or rolls it back.
    /// </summary>
    private void HandleXaPrepare(XaPrepareEvent prepare, long position, long nextPosition, List<CaptureItem> output)
    {
        var tx = _open;
        if (tx is null)
        {
            output.Add(new CaptureWarning($"An XA_PREPARE of XA {prepare.Xid} at {_file}:{position} ends no open event group; ignored."));
            return;
        }

        if (prepare.OnePhase || tx.Xa is null)
        {
            // One phase, or a group read as a plain transaction: its rows are not held, it commits now.
            Close(nextPosition, output);
            return;
        }

        _open = null;
        if (tx.MariaGtid is { } gtid)
        {
            _gtids = _gtids.With(gtid);
        }

        if (tx.IsResumed)
        {
            _resume = null;
        }

        if (_prepared.Remove(prepare.Xid, out var older))
        {
            // A server never prepares one XID twice; if the stream says so, the older one's outcome was missed.
            output.Add(new CaptureWarning($"XA {prepare.Xid} is prepared again at {_file}:{position} while an earlier prepare of it is pending; the earlier one's held rows are dropped."));
            DropHeld(older);
            output.Add(new XaResolved(older.Id, prepare.Xid.ToString(), Committed: false, older.RowsSeen, tx.Id));
        }

        _prepared[prepare.Xid] = tx;
        output.Add(new TransactionPrepared(tx.Id, prepare.Xid.ToString(), new BinlogPosition(_file, nextPosition), _gtids.IsEmpty ? null : _gtids.ToString(), tx.CommitTime));
    }

    /// <summary>
    /// <c>XA COMMIT</c> or <c>XA ROLLBACK</c> of <paramref name="xid"/>, inside the group that
    /// logs it: the held rows of its prepare are emitted (commit) or dropped (rollback), and the
    /// prepare's transaction is released.
    /// </summary>
    private void ResolveXa(XaId xid, bool committed, long position, List<CaptureItem> output)
    {
        var outcome = committed ? "XA COMMIT" : "XA ROLLBACK";
        if (!_prepared.Remove(xid, out var prepared))
        {
            output.Add(new CaptureWarning(
                $"{outcome} of XA {xid} at {_file}:{position}, whose XA PREPARE was not read (it is older than where this capture started reading){(committed ? "; its rows were not captured: resync the tables it changed" : "")}."));
            return;
        }

        if (committed && prepared.Overflowed)
        {
            // Its rows were dropped from memory: they are read again from its start, with this outcome known.
            output.Add(new XaRereadNeeded(prepared.Id, xid.ToString(), prepared.RestartPoint, Committed: true));
            return;
        }

        if (committed)
        {
            var commitTime = _open!.CommitTime;
            foreach (var held in prepared.Held)
            {
                output.Add(held with { Change = held.Change with { CommitTime = commitTime } });
            }
        }

        DropHeld(prepared);
        output.Add(new XaResolved(prepared.Id, xid.ToString(), committed, prepared.RowsSeen, _open!.Id));
    }

    private void HandleQuery(QueryEvent query, long position, long nextPosition, List<CaptureItem> output)
    {
        if (query.IsBegin)
        {
            if (_open is null)
            {
                if (_pendingStart is null)
                {
                    _pendingStart = new PendingGroupStart(position, query.Header.Timestamp, null, null, Standalone: false);
                }

                Open(output);
            }

            return;
        }

        if (query.IsCommit || query.IsRollback)
        {
            Close(nextPosition, output);
            return;
        }

        if (XaStatement().Match(query.Sql) is { Success: true } xa)
        {
            HandleXaStatement(query, xa, position, nextPosition, output);
            return;
        }

        // Any other statement in row-based logging is DDL (or a statement on a non-transactional
        // table logged as a statement); it forms a group of its own unless inside BEGIN..COMMIT.
        if (_open is null)
        {
            _pendingStart = (_pendingStart ?? new PendingGroupStart(position, query.Header.Timestamp, null, null, Standalone: true)) with { Standalone = true };
            Open(output);
        }

        if (SchemaChangeOf(query) is { } changed)
        {
            output.Add(changed);
        }

        HandleStatementEffects(query, position, nextPosition, output);
        if (_open!.Standalone)
        {
            Close(nextPosition, output);
        }
    }

    /// <summary>
    /// XA statements as the server logs them: <c>XA START</c> opens MySQL's prepare group (MariaDB
    /// says so in its GTID event), <c>XA END</c> is inside it, and <c>XA COMMIT</c> or
    /// <c>XA ROLLBACK</c> forms a group of its own that decides a prepared XA's outcome.
    /// </summary>
    private void HandleXaStatement(QueryEvent query, Match xa, long position, long nextPosition, List<CaptureItem> output)
    {
        var verb = xa.Groups["verb"].Value.ToUpperInvariant();
        if (!XaId.TryParse(xa.Groups["xid"].Value, out var xid))
        {
            output.Add(new CaptureWarning($"The XA statement at {_file}:{position} names an XID this reader cannot parse: {query.Sql}"));
            xid = null;
        }

        switch (verb)
        {
            case "START" or "BEGIN":
                if (_open is null)
                {
                    _pendingStart ??= new PendingGroupStart(position, query.Header.Timestamp, null, null, Standalone: false);
                    Open(output);
                }

                if (_open!.Xa is null && xid is not null)
                {
                    _open.Xa = xid;
                    _open.Known = KnownOutcomeOf(_open);
                }

                return;
            case "COMMIT" or "ROLLBACK":
                if (_open is null)
                {
                    _pendingStart = (_pendingStart ?? new PendingGroupStart(position, query.Header.Timestamp, null, null, Standalone: true)) with { Standalone = true };
                    Open(output);
                }

                if (xid is not null)
                {
                    ResolveXa(xid, verb == "COMMIT", position, output);
                }

                if (_open!.Standalone)
                {
                    Close(nextPosition, output);
                }

                return;
            default:
                // XA END (and anything else an XA group carries) is part of the open group.
                return;
        }
    }

    /// <summary>
    /// A statement that changes captured rows without row events. None of them can be turned into
    /// row changes here, so each stops its table loudly until it is resynced (promise 7), rather
    /// than leaving the sink to drift:
    /// <list type="bullet">
    /// <item>DML logged as a statement (binlog_format STATEMENT or MIXED, set per session for a bulk
    /// load or globally): which rows it wrote is unknown.</item>
    /// <item>TRUNCATE, DROP TABLE, DROP DATABASE: every row is gone, but the sink still holds them.
    /// (Clearing the table's keys in the sinks, fenced by version, is the job's part to come; until
    /// then the operator clears them.)</item>
    /// <item>RENAME (RENAME TABLE, ALTER … RENAME): the rows now live under another name, which
    /// the sink holds none of, and the old name's rows stay.</item>
    /// <item>A primary-key change: later changes are keyed differently, and the rows the sink holds
    /// under the old key are never deleted.</item>
    /// <item>Partition drop, truncate, exchange, reorganize, tablespace discard/import: rows move
    /// in or out wholesale, and which ones is unknown here.</item>
    /// </list>
    /// </summary>
    private void HandleStatementEffects(QueryEvent query, long position, long nextPosition, List<CaptureItem> output)
    {
        foreach (var effect in StatementEffects.Of(query.Sql, query.Schema))
        {
            if (effect.Table is null ? !_filter.Includes(effect.Schema, "*") : !_filter.Includes(effect.Schema, effect.Table))
            {
                continue;
            }

            var at = $"{_file}:{position}";
            var sql = Abbreviate(query.Sql);
            var clear = $"Clear {effect.Name}'s rows in the sinks (redis-cache: its keys <key-prefix>{effect.Schema}:{effect.Table ?? "*"}:*)";
            var (reason, cause) = effect.Kind switch
            {
                StatementEffectKind.RowsByStatement => (
                    $"a statement changed its rows at {at} without row events (binlog_format STATEMENT or MIXED in that session): {sql}",
                    "Set binlog_format=ROW on the source (SET GLOBAL binlog_format=ROW, and in every session that loads data)"),
                StatementEffectKind.Truncated => ($"TRUNCATE emptied it at {at} without row events: {sql}", clear),
                StatementEffectKind.Dropped => ($"DROP TABLE removed it at {at} without row events: {sql}", clear),
                StatementEffectKind.DatabaseDropped => ($"DROP DATABASE removed its tables at {at} without row events: {sql}", clear),
                StatementEffectKind.Renamed => (
                    $"it was {effect.Detail} at {at}: the sinks hold its rows under the old name only: {sql}",
                    $"{clear}, and those of the table's other name"),
                StatementEffectKind.KeyChanged => (
                    $"its primary key changed at {at}: later changes are keyed differently, and the sinks keep its rows under the old key: {sql}",
                    clear),
                _ => ($"a partition operation moved rows in or out of it at {at} without row events: {sql}", "Compare it with the source"),
            };
            StopForResync(effect.Name, position, nextPosition, reason, cause, output);
        }
    }

    /// <summary>
    /// Stops <paramref name="table"/> at the current row of the open transaction: what follows of it
    /// is held and the offset stays here until it is resynced and the capture restarted with
    /// resynced-through past this statement. Before resynced-through, a warning says so instead.
    /// </summary>
    private void StopForResync(string table, long position, long nextPosition, string reason, string cause, List<CaptureItem> output)
    {
        var through = new BinlogPosition(_file, nextPosition);
        if (ResyncedThrough is { } resynced && new BinlogPosition(_file, position) < resynced)
        {
            output.Add(new CaptureWarning($"Table {table}: {reason}. It is before resynced-through {resynced}, so the table is taken as resynced and goes on."));
            return;
        }

        var fix = $"{cause}; resync {table} into the sinks from the source as of a binlog position P at or after {through} (SHOW MASTER STATUS when the copy is read); then set replicator.sources.{_source}.resynced-through = \"P\" and restart the capture.";
        if (!_pauseUnmappable)
        {
            output.Add(new CaptureWarning($"Table {table} needs a resync: {reason}. {fix}"));
            return;
        }

        if (_paused.ContainsKey(table))
        {
            return;
        }

        _paused[table] = reason;
        var tx = _open!;
        output.Add(new TablePaused(tx.Id, tx.RowsSeen, table, $"it needs a resync: {reason}", fix));
    }

    /// <summary>
    /// Whether the column names of <paramref name="table"/> may label its rows at
    /// <paramref name="position"/>: always when they came from the event; when they came from
    /// information_schema as of a later position, only if no DDL on the table lies between (a
    /// swap or rename of same-typed columns would mislabel every value). When one does, the table
    /// stops for a resync (loud; its rows are held, the offset stays before them), unless it was
    /// resynced through a position past the DDL and these rows are before it: the resync holds
    /// their effect, and they are skipped.
    /// </summary>
    private bool NamesFit(TableSchema table, string name, long position, List<CaptureItem> output)
    {
        if (table.NamesAsOf is not { } asOf || SchemaHistory is not { } history)
        {
            return true;
        }

        var rowAt = new BinlogPosition(_file, position);
        var verdict = history.Check(table.Schema, table.Table, rowAt, asOf);
        if (verdict.MayDecode)
        {
            return true;
        }

        if (verdict.Between is { } skipped && ResyncedThrough is { } resynced && skipped.At < resynced && rowAt < resynced)
        {
            if (_resyncSkipped.Add(name))
            {
                output.Add(new CaptureWarning(
                    $"Table {name}: its rows from {rowAt} were written before {Abbreviate(skipped.Sql)} at {skipped.At}, and the binlog carries no column names to label them with. "
                    + $"It is resynced through {resynced}, so they are taken as resynced and skipped up to there."));
            }

            _lastTable = null;
            return false;
        }

        var reason = verdict.Between is { } ddl
            ? $"its rows at {rowAt} were written before {Abbreviate(ddl.Sql)} at {ddl.At}, and the binlog carries no column names (binlog_row_metadata is not FULL): "
              + $"the names and key information_schema gives now (read as of {asOf}) are the table's after that statement, and may not be those of its values"
            : $"its rows at {rowAt} carry no column names (binlog_row_metadata is not FULL), and whether a DDL changed it between them and {asOf}, as of which information_schema named its columns, is not known";
        var through = verdict.Last?.End ?? asOf;
        var fix = $"Set binlog_row_metadata=FULL on the source (SET GLOBAL binlog_row_metadata=FULL, and in its config) so that the binlog names the columns of later rows; "
            + $"for these, resync {name} into the sinks from the source as of a binlog position P at or after {through} (SHOW MASTER STATUS when the copy is read); then set replicator.sources.{_source}.resynced-through = \"P\" and restart the capture.";
        if (!_pauseUnmappable)
        {
            throw new TableMappingException(name, $"Rows of {name} cannot be labelled: {reason}. {fix}");
        }

        _paused[name] = reason;
        output.Add(new TablePaused(_open!.Id, _open.RowsSeen, name, $"it needs a resync: {reason}", fix));
        return false;
    }

    private static string Abbreviate(string sql) => sql.Length <= 200 ? sql : string.Concat(sql.AsSpan(0, 200), "…");

    private void HandleRows(RowsEvent rows, long position, List<CaptureItem> output)
    {
        var tx = _open!;
        var table = rows.Table;
        bool captured;
        TableShape? shape = null;
        if (ReferenceEquals(table, _lastTable) && _paused.Count == 0)
        {
            // The table of the last rows event (a server writes one TABLE_MAP, and so one schema
            // object, per statement): its filter verdict and shape are known.
            captured = _lastCaptured;
            shape = _lastShape;
        }
        else
        {
            captured = _filter.Includes(table.Schema, table.Table);
            _lastTable = null;
        }

        if (captured && shape is null)
        {
            var name = table.Schema + "." + table.Table;
            if (!_paused.ContainsKey(name) && !NamesFit(table, name, position, output))
            {
                tx.RowsSeen += rows.Rows.Count;
                Count(tx, output);
                return;
            }

            try
            {
                shape = _paused.ContainsKey(name) ? null : ShapeOf(table, position);
            }
            catch (Exception e) when (_pauseUnmappable && e is TableMappingException or MissingKeyException)
            {
                _paused[name] = e.Message;
                output.Add(new TablePaused(tx.Id, tx.RowsSeen, name, e.Message));
            }

            if (shape is null)
            {
                tx.RowsSeen += rows.Rows.Count;
                Count(tx, output);
                return;
            }
        }

        if (_lastTable is null && _paused.Count == 0)
        {
            (_lastTable, _lastCaptured, _lastShape) = (table, captured, shape);
        }

        var gtid = tx.Gtid;
        ChangePosition? changePosition = null;
        var images = rows.Rows;
        var count = images.Count;
        for (var i = 0; i < count; i++)
        {
            var ordinal = tx.RowsSeen++;
            if (!captured || (_resume is not null && tx.IsResumed && ordinal < _resume.SkipRows))
            {
                continue;
            }

            var row = images[i];
            var version = tx.MariaGtid is { } mariaGtid ? SourceVersion.OfGtid(GtidRankOf(tx.Id, mariaGtid), ordinal) : new SourceVersion(_fileSequence, position, tx.RowIndexAt(position));
            changePosition ??= new ChangePosition(_file, position, gtid);
            var before = row.Before is null ? null : new RowData(shape!.Names, row.Before);
            RowData? after;
            try
            {
                after = row.After is null ? null : new RowData(shape!.Names, rows.IsPartialUpdate ? ApplyJsonDiffs(table, row.Before, row.After, position) : row.After);
            }
            catch (TableMappingException e) when (_pauseUnmappable)
            {
                // This row and the rest of the table wait; rows already emitted stand.
                _paused[table.Schema + "." + table.Table] = e.Message;
                output.Add(new TablePaused(tx.Id, ordinal, table.Schema + "." + table.Table, e.Message));
                tx.RowsSeen += count - i - 1;
                Count(tx, output);
                return;
            }

            switch (rows.Kind)
            {
                case RowsEventKind.Write:
                    Emit(tx, new ChangeCaptured(tx.Id, ordinal, Change(table, ChangeAction.Write, shape!.KeyOf(after!, before), null, after, changePosition, version, tx.CommitTime)), output);
                    break;
                case RowsEventKind.Delete:
                    Emit(tx, new ChangeCaptured(tx.Id, ordinal, Change(table, ChangeAction.Delete, shape!.KeyOf(before!, null), before, null, changePosition, version, tx.CommitTime)), output);
                    break;
                default:
                    if (shape!.SameKey(before!, after!))
                    {
                        Emit(tx, new ChangeCaptured(tx.Id, ordinal, Change(table, ChangeAction.Update, shape.KeyOf(after!, before), before, after, changePosition, version, tx.CommitTime)), output);
                        break;
                    }

                    var oldKey = shape.KeyOf(before!, null);
                    var newKey = shape.KeyOf(after!, before);
                    if (oldKey.Equals(newKey))
                    {
                        Emit(tx, new ChangeCaptured(tx.Id, ordinal, Change(table, ChangeAction.Update, newKey, before, after, changePosition, version, tx.CommitTime)), output);
                    }
                    else
                    {
                        // A pk-changing UPDATE: the old row goes away and a new one appears, each routed by its own pk.
                        Emit(tx, new ChangeCaptured(tx.Id, ordinal, Change(table, ChangeAction.Delete, oldKey, before, null, changePosition, version, tx.CommitTime)), output);
                        Emit(tx, new ChangeCaptured(tx.Id, ordinal, Change(table, ChangeAction.Write, newKey, null, after, changePosition, version, tx.CommitTime)), output);
                    }

                    break;
            }
        }

        Count(tx, output);
    }

    /// <summary>
    /// A row change goes out, or, in an XA transaction's prepare group, is held until its outcome,
    /// within the bound on held changes; past it, the prepare holds nothing (see <see cref="Overflow"/>).
    /// A prepare whose outcome is known lets its rows go (committed) or drops them (rolled back) as they come.
    /// </summary>
    private void Emit(Transaction tx, ChangeCaptured change, List<CaptureItem> output)
    {
        if (tx.Xa is null || tx.Known is { Committed: true })
        {
            output.Add(change);
            return;
        }

        if (tx.Known is not null || tx.Overflowed)
        {
            return;
        }

        var size = Serialization.WireFormat.EstimatedSize(change.Change);
        if (_heldChanges >= MaxHeldChanges || _heldBytes + size > MaxHeldBytes)
        {
            Overflow(tx, output);
            return;
        }

        tx.Held.Add(change);
        tx.HeldBytes += size;
        _heldChanges++;
        _heldBytes += size;
    }

    /// <summary>
    /// The held changes would pass the bound: this prepare drops what it holds and holds no more.
    /// Its offset stays at its start like any pending prepare's; its outcome decides what follows
    /// (nothing on rollback; on commit, a re-read of the prepare with the outcome known).
    /// </summary>
    private void Overflow(Transaction tx, List<CaptureItem> output)
    {
        output.Add(new CaptureWarning(
            $"XA {tx.Xa} prepared from {tx.RestartPoint} has more row changes than may be held until its outcome (with the other pending prepares: {_heldChanges + 1:N0} changes or "
            + $"{_heldBytes:N0}+ bytes, over replicator.capture.max-held-xa-changes = {MaxHeldChanges:N0} or max-held-xa-bytes = {MaxHeldBytes:N0}). Its rows are dropped from memory; "
            + "if it commits, they are read again from its start, which costs a re-read of the binlog from there. Raise the two settings if large XA transactions are usual."));
        DropHeld(tx);
        tx.Overflowed = true;
    }

    /// <summary>Lets go of a transaction's held changes and their share of the bound.</summary>
    private void DropHeld(Transaction tx)
    {
        _heldChanges -= tx.Held.Count;
        _heldBytes -= tx.HeldBytes;
        tx.Held.Clear();
        tx.HeldBytes = 0;
    }

    /// <summary>What <see cref="KnownXaOutcomes"/> says of the XA transaction <paramref name="tx"/> prepares, if it is the same XA.</summary>
    private XaOutcome? KnownOutcomeOf(Transaction tx) =>
        tx.Xa is { } xid && KnownXaOutcomes.TryGetValue(tx.RestartPoint, out var outcome) && outcome.Xid == xid.ToString() ? outcome : null;

    /// <summary>
    /// Tells how many row images of the transaction are handled. In a prepare group, only those a
    /// resume skips: the held ones are not handled until the outcome (those of a prepare whose
    /// outcome is known are, as they are emitted or dropped).
    /// </summary>
    private static void Count(Transaction tx, List<CaptureItem> output) =>
        output.Add(new RowsCounted(tx.Id, tx.Xa is null || tx.Known is not null ? tx.RowsSeen : Math.Min(tx.RowsSeen, tx.SkipRows)));

    /// <summary>
    /// MySQL 8 partial JSON updates (binlog_row_value_options=PARTIAL_JSON) carry a diff instead of
    /// the new document: apply it to the before image. Without the before document (a MINIMAL
    /// image), the update cannot be made whole, and the table fails loudly rather than losing it.
    /// </summary>
    private ColumnValue[] ApplyJsonDiffs(TableSchema table, ColumnValue[]? before, ColumnValue[] after, long position)
    {
        ColumnValue[]? whole = null;
        for (var i = 0; i < after.Length; i++)
        {
            if (after[i].Kind != ValueKind.JsonDiff)
            {
                continue;
            }

            var column = table.Columns[i].Name;
            if ((before is null || before[i].Kind != ValueKind.Json) && !_strictPartialJson)
            {
                continue;
            }

            if (before is null || before[i].Kind != ValueKind.Json)
            {
                throw new TableMappingException(
                    table.ToString(),
                    $"A partial JSON update of {table}.{column} at {_file}:{position} cannot be applied: the before image does not hold the document (binlog_row_image=MINIMAL?). Set binlog_row_image=FULL or binlog_row_value_options='' on the source.");
            }

            whole ??= (ColumnValue[])after.Clone();
            try
            {
                whole[i] = ColumnValue.FromJson(JsonDiffApplier.Apply(before[i].AsString()!, after[i].AsJsonDiff()!));
            }
            catch (JsonDiffException e)
            {
                throw new TableMappingException(table.ToString(), $"A partial JSON update of {table}.{column} at {_file}:{position} does not fit the before image: {e.Message}");
            }
        }

        return whole ?? after;
    }

    /// <summary>The GTID rank of a transaction's version (see <see cref="SourceVersion"/>), worked out once per transaction.</summary>
    private ulong GtidRankOf(long transactionId, MariaDbGtid gtid)
    {
        if (_rankOf != transactionId)
        {
            (_rankOf, _rank) = (transactionId, SourceVersion.GtidRank(_gtids, gtid));
        }

        return _rank;
    }

    private RowChange Change(TableSchema table, ChangeAction action, RowKey key, RowData? before, RowData? after, ChangePosition position, SourceVersion version, DateTime commitTime) =>
        new(_source, table.Schema, table.Table, action, key, before, after, position, version, commitTime);

    private void Open(List<CaptureItem> output)
    {
        var start = _pendingStart!;
        _pendingStart = null;
        var restart = new BinlogPosition(_file, start.Position);
        if (_open is not null)
        {
            Abandon(restart, output);
        }

        var resumed = _resume is not null && restart == _resume.Position;
        _open = new Transaction(
            _nextTransactionId++,
            start.Gtid,
            start.MariaGtid,
            start.CommitTime ?? DateTime.UnixEpoch.AddSeconds(start.Timestamp),
            start.Standalone,
            resumed,
            restart)
        {
            Xa = start.Xa,
            SkipRows = resumed ? _resume!.SkipRows : 0,
        };
        _open.Known = KnownOutcomeOf(_open);
        output.Add(new TransactionBegan(_open.Id, restart, _gtids.IsEmpty ? null : _gtids.ToString(), _open.CommitTime));
    }

    /// <summary>
    /// A new group starts while one is still open: the open one's end was not in the stream (a
    /// server that crashed while writing it, or an end event this reader does not know). It is
    /// closed where the new one starts, so that it never holds the offset, and said loudly. Its
    /// emitted rows stand; the held rows of an XA whose prepare was never logged are dropped, as
    /// the server rolls such a transaction back.
    /// </summary>
    private void Abandon(BinlogPosition next, List<CaptureItem> output)
    {
        var tx = _open!;
        _open = null;
        var dropped = tx.Held.Count;
        DropHeld(tx);
        output.Add(new CaptureWarning(
            $"The event group begun before {next} has no end in the binlog (no XID, COMMIT or XA PREPARE); it is closed where the next group starts"
            + (dropped > 0 ? $", and the {dropped} held row changes of its unprepared XA transaction are dropped." : ".")));
        if (tx.IsResumed)
        {
            _resume = null;
        }

        output.Add(new TransactionEnded(tx.Id, tx.RowsSeen, next, _gtids.IsEmpty ? null : _gtids.ToString()));
    }

    private void OpenImplicit(long position, uint timestamp, List<CaptureItem> output)
    {
        _pendingStart ??= new PendingGroupStart(position, timestamp, null, null, Standalone: false);
        Open(output);
    }

    private void Close(long nextPosition, List<CaptureItem> output)
    {
        var tx = _open;
        if (tx is null)
        {
            return;
        }

        _open = null;
        if (tx.Overflowed)
        {
            // An XA group that commits as it ends, whose rows were too many to hold: read it again, knowing it commits.
            output.Add(new XaRereadNeeded(tx.Id, tx.Xa!.ToString(), tx.RestartPoint, Committed: true));
            return;
        }

        if (tx.MariaGtid is { } gtid)
        {
            _gtids = _gtids.With(gtid);
        }

        if (tx.IsResumed)
        {
            _resume = null;
        }

        // An XA group that commits as it ends (one phase, or an end read as a plain commit) lets its held rows go.
        output.AddRange(tx.Held);
        DropHeld(tx);
        output.Add(new TransactionEnded(tx.Id, tx.RowsSeen, new BinlogPosition(_file, nextPosition), _gtids.IsEmpty ? null : _gtids.ToString()));
    }

    private void SetFile(string file)
    {
        _file = file;
        _fileSequence = Math.Max(0, BinlogPosition.FileSequenceOf(file));
    }

    private TableShape ShapeOf(TableSchema table, long position)
    {
        if (table.MappingProblem is { } problem)
        {
            throw new TableMappingException(table.ToString(), $"Rows of {table} at {_file}:{position} cannot be mapped to columns: {problem}");
        }

        if (_shapes.TryGetValue(table, out var shape))
        {
            return shape;
        }

        shape = TableShape.Create(table, _keyColumns, _allowKeyless);
        _shapes.AddOrUpdate(table, shape);
        return shape;
    }

    private static string FormatMySqlGtid(MySqlGtidEvent gtid) =>
        gtid.Tag is null
            ? $"{gtid.SourceId:D}:{gtid.TransactionNumber}"
            : $"{gtid.SourceId:D}:{gtid.Tag}:{gtid.TransactionNumber}";

    /// <summary>Splits <c>db.t</c>, <c>`db`.`t`</c> or <c>`t`</c> into its parts, unquoting <c>``</c>; a name without a schema is in <paramref name="defaultSchema"/>.</summary>
    internal static (string? Schema, string? Table) SplitName(string name, string defaultSchema)
    {
        var parts = new List<string>(2);
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '`')
            {
                if (quoted && i + 1 < name.Length && name[i + 1] == '`')
                {
                    current.Append('`');
                    i++;
                }
                else
                {
                    quoted = !quoted;
                }
            }
            else if (c == '.' && !quoted)
            {
                parts.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        parts.Add(current.ToString());
        return parts.Count == 1
            ? (defaultSchema.Length == 0 ? null : defaultSchema, parts[0])
            : (parts[0], parts[1]);
    }

    /// <summary>
    /// What a statement changed: one table for a single-table CREATE/ALTER/DROP/TRUNCATE, every
    /// table (both names null) for any other DDL (RENAME, multi-table DROP, ALTER … RENAME, DROP
    /// DATABASE, CREATE/DROP INDEX): reloading a table's metadata costs little, naming it wrong would not.
    /// </summary>
    internal static SchemaChanged? SchemaChangeOf(QueryEvent query) => SchemaChangeOf(query.Sql, query.Schema);

    /// <summary>What <paramref name="sql"/>, logged with <paramref name="defaultSchema"/> as its default schema, changed (see <see cref="SchemaChangeOf(QueryEvent)"/>).</summary>
    internal static SchemaChanged? SchemaChangeOf(string sql, string defaultSchema)
    {
        if (!DdlKeyword().IsMatch(sql))
        {
            return null;
        }

        var single = SingleTableDdl().Match(sql);
        if (single.Success && !MultiTableOrRename().IsMatch(sql[(single.Index + single.Length)..]))
        {
            var (schema, table) = SplitName(single.Groups["name"].Value, defaultSchema);
            return new SchemaChanged(schema, table, sql);
        }

        return new SchemaChanged(null, null, sql);
    }

    /// <summary>The first table a CREATE/ALTER/DROP TABLE or TRUNCATE names (the one it changes, with others a rename or list may add), or null.</summary>
    internal static (string? Schema, string? Table)? FirstTableOf(string sql, string defaultSchema)
    {
        var single = SingleTableDdl().Match(sql);
        return single.Success ? SplitName(single.Groups["name"].Value, defaultSchema) : null;
    }

    internal const string LeadingComments = @"^\s*(?:/\*.*?\*/\s*|#[^\n]*\n\s*|--[^\n]*\n\s*)*";

    [GeneratedRegex(LeadingComments + @"XA\s+(?<verb>START|BEGIN|END|PREPARE|COMMIT|ROLLBACK|RECOVER)\b\s*(?<xid>.*)$", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex XaStatement();

    [GeneratedRegex(LeadingComments + @"(?:CREATE|ALTER|DROP|TRUNCATE|RENAME)\b", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex DdlKeyword();

    [GeneratedRegex(LeadingComments + @"(?:(?:CREATE(?:\s+OR\s+REPLACE)?|ALTER|DROP)\s+(?:(?:TEMPORARY|ONLINE|OFFLINE|IGNORE)\s+)*TABLE|TRUNCATE(?:\s+TABLE)?)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?<name>(?:`(?:[^`]|``)+`|[\w$]+)(?:\.(?:`(?:[^`]|``)+`|[\w$]+))?)", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex SingleTableDdl();

    /// <summary>After the first table name: another table (a comma outside parentheses at the top level of DROP) or a rename.</summary>
    [GeneratedRegex(@"^\s*,|\bRENAME\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MultiTableOrRename();

    private sealed record PendingGroupStart(long Position, uint Timestamp, string? Gtid, MariaDbGtid? MariaGtid, bool Standalone, DateTime? CommitTime = null)
    {
        /// <summary>The XA transaction a MariaDB prepare group belongs to (FL_PREPARED_XA).</summary>
        public XaId? Xa { get; init; }
    }

    private sealed class Transaction(long id, string? gtid, MariaDbGtid? mariaGtid, DateTime commitTime, bool standalone, bool isResumed, BinlogPosition restartPoint)
    {
        private long _rowsEventPosition = -1;
        private int _rowIndex;

        public long Id { get; } = id;

        public string? Gtid { get; } = gtid;

        public MariaDbGtid? MariaGtid { get; } = mariaGtid;

        public DateTime CommitTime { get; } = commitTime;

        public bool Standalone { get; } = standalone;

        public bool IsResumed { get; } = isResumed;

        public int RowsSeen { get; set; }

        /// <summary>Row images a resume skips (already handled before the restart).</summary>
        public int SkipRows { get; init; }

        /// <summary>The XA transaction this group prepares; its row changes are held while set.</summary>
        public XaId? Xa { get; set; }

        /// <summary>Row changes held until the XA's outcome.</summary>
        public List<ChangeCaptured> Held { get; } = [];

        /// <summary>The estimated wire size of <see cref="Held"/>.</summary>
        public long HeldBytes { get; set; }

        /// <summary>The prepare had more rows than may be held: it holds none, and a commit needs a re-read.</summary>
        public bool Overflowed { get; set; }

        /// <summary>The XA's outcome, when it was read before (a re-read after an overflow).</summary>
        public XaOutcome? Known { get; set; }

        public BinlogPosition RestartPoint { get; } = restartPoint;

        /// <summary>The row's index among the rows at one position (one rows event, or one whole compressed payload).</summary>
        public int RowIndexAt(long position)
        {
            if (position != _rowsEventPosition)
            {
                _rowsEventPosition = position;
                _rowIndex = 0;
            }

            return _rowIndex++;
        }
    }
}
