using System.Text.RegularExpressions;
using Replicator.Binlog.Positions;
using Replicator.Engine.Capture;

namespace Replicator.Engine.Schema;

/// <summary>
/// The DDL statements of a stretch of the binlog, known ahead of the reader, and the rule that
/// says whether column names read from information_schema may decode a row event: names read as
/// of position <c>a</c> (the binlog end when they were read) describe the table after every DDL
/// before <c>a</c>, so they must not label a row event at <c>p &lt; a</c> when a DDL on that table
/// was logged between <c>p</c> and <c>a</c>: a swap or rename of same-typed columns keeps the
/// shape, and nothing else would tell.
/// </summary>
/// <remarks>
/// Pure and thread-safe (one lock; no I/O): <see cref="MySqlSchemaSource"/> scans the binlog for
/// the stretches <see cref="Missing"/> names and records what it found; the
/// <see cref="ChangeExtractor"/> asks <see cref="Check"/> before it labels a table's rows. The
/// history keeps one contiguous scanned stretch. DDL counts are small, so nothing is pruned.
/// </remarks>
public sealed partial class DdlHistory
{
    private readonly object _gate = new();
    private readonly List<Ddl> _ddls = [];
    private BinlogPosition? _from;
    private BinlogPosition? _through;

    /// <summary>A DDL statement at <paramref name="At"/> (its QUERY event), ending at <paramref name="End"/>.</summary>
    /// <param name="Schema">The schema of the table it changes; null: it may change any table.</param>
    /// <param name="Table">The table it changes; null: any table of <paramref name="Schema"/>.</param>
    public sealed record Ddl(BinlogPosition At, BinlogPosition End, string? Schema, string? Table, string Sql)
    {
        public bool Changes(string schema, string table) =>
            Schema is null
            || (string.Equals(Schema, schema, StringComparison.OrdinalIgnoreCase) && (Table is null || string.Equals(Table, table, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>Whether names may decode a row event; when not, the first DDL between them (null: that stretch was never scanned).</summary>
    /// <param name="Last">When not, the last DDL on the table before the names were read: a resync must be as of its end or later.</param>
    public readonly record struct Verdict(bool MayDecode, Ddl? Between, Ddl? Last = null);

    /// <summary>The stretches of [<paramref name="from"/>, <paramref name="to"/>) not scanned yet, to scan before names read as of <paramref name="to"/> decode rows at <paramref name="from"/>.</summary>
    public IReadOnlyList<(BinlogPosition From, BinlogPosition To)> Missing(BinlogPosition from, BinlogPosition to)
    {
        if (from >= to)
        {
            return [];
        }

        lock (_gate)
        {
            if (_from is not { } covered || _through is not { } through || to < covered || from > through)
            {
                return [(from, to)];
            }

            var missing = new List<(BinlogPosition, BinlogPosition)>(2);
            if (from < covered)
            {
                missing.Add((from, covered));
            }

            if (to > through)
            {
                missing.Add((through, to));
            }

            return missing;
        }
    }

    /// <summary>Records that [<paramref name="from"/>, <paramref name="to"/>) was scanned and held <paramref name="found"/>.</summary>
    public void Scanned(BinlogPosition from, BinlogPosition to, IEnumerable<Ddl> found)
    {
        lock (_gate)
        {
            foreach (var ddl in found)
            {
                if (!_ddls.Contains(ddl))
                {
                    _ddls.Add(ddl);
                }
            }

            _ddls.Sort((x, y) => x.At.CompareTo(y.At));
            if (_from is not { } covered || _through is not { } through || to < covered || from > through)
            {
                // Not adjacent to what is known (a reader restarted far from it): this stretch is what is known now.
                (_from, _through) = (from, to);
                return;
            }

            (_from, _through) = (from < covered ? from : covered, to > through ? to : through);
        }
    }

    /// <summary>
    /// May names of <paramref name="schema"/>.<paramref name="table"/> read as of
    /// <paramref name="namesAsOf"/> label the row event at <paramref name="rowAt"/>? Yes when no DDL
    /// on the table lies between them; no, naming the first such DDL, when one does; no, naming
    /// none, when that stretch was not scanned.
    /// </summary>
    public Verdict Check(string schema, string table, BinlogPosition rowAt, BinlogPosition namesAsOf)
    {
        if (namesAsOf <= rowAt)
        {
            return new Verdict(true, null);
        }

        lock (_gate)
        {
            if (_from is not { } covered || _through is not { } through || rowAt < covered || namesAsOf > through)
            {
                return new Verdict(false, null);
            }

            Ddl? first = null;
            Ddl? last = null;
            foreach (var ddl in _ddls)
            {
                if (ddl.At > rowAt && ddl.At < namesAsOf && ddl.Changes(schema, table))
                {
                    first ??= ddl;
                    last = ddl;
                }
            }

            return first is null ? new Verdict(true, null) : new Verdict(false, first, last);
        }
    }

    /// <summary>
    /// The tables a statement logged at <paramref name="at"/> may change the columns of, as the
    /// capture reads DDL (<see cref="ChangeExtractor.SchemaChangeOf(string, string)"/>, and for
    /// renames and multi-table statements <see cref="StatementEffects"/> and the first table named); empty for a
    /// statement that is not DDL. A DDL whose tables cannot be told changes any table.
    /// </summary>
    public static IReadOnlyList<Ddl> Of(string sql, string defaultSchema, BinlogPosition at, BinlogPosition end)
    {
        if (ChangeExtractor.SchemaChangeOf(sql, defaultSchema) is not { } changed)
        {
            return [];
        }

        if (changed.Table is not null)
        {
            return [new Ddl(at, end, changed.Schema, changed.Table, sql)];
        }

        // ALTER TABLE t RENAME COLUMN …, RENAME TABLE, DROP TABLE a, b: the tables named.
        var named = StatementEffects.Of(sql, defaultSchema)
            .Select(e => new Ddl(at, end, e.Schema, e.Table, sql))
            .ToList();
        if (ChangeExtractor.FirstTableOf(sql, defaultSchema) is { Table: not null } first)
        {
            named.Insert(0, new Ddl(at, end, first.Schema, first.Table, sql));
        }

        if (IndexStatement().Match(sql) is { Success: true } index)
        {
            // CREATE/DROP INDEX … ON t: t's key may change.
            var (schema, table) = ChangeExtractor.SplitName(index.Groups["name"].Value, defaultSchema);
            named.Add(new Ddl(at, end, schema, table, sql));
        }

        named = named.Distinct().ToList();
        if (named.Count > 0 || NoTableColumns().IsMatch(sql))
        {
            // A database, user, view, routine, trigger or event statement renames no table's columns (DROP DATABASE is an effect above).
            return named;
        }

        return [new Ddl(at, end, null, null, sql)];
    }

    [GeneratedRegex(ChangeExtractor.LeadingComments + @"(?:CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:SQL\s+SECURITY\s+\w+\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?(?:DATABASE|SCHEMA|USER|ROLE|VIEW|PROCEDURE|FUNCTION|TRIGGER|EVENT|SERVER)\b", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex NoTableColumns();

    [GeneratedRegex(ChangeExtractor.LeadingComments + @"(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?|DROP\s+)INDEX\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:`(?:[^`]|``)+`|[\w$]+)\s+ON\s+(?<name>(?:`(?:[^`]|``)+`|[\w$]+)(?:\.(?:`(?:[^`]|``)+`|[\w$]+))?)", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex IndexStatement();
}
