using System.Text;

namespace Replicator.Engine.Capture;

/// <summary>What a statement logged in a QUERY event does to a table's rows without row events.</summary>
public enum StatementEffectKind
{
    /// <summary>INSERT, UPDATE, DELETE, REPLACE, LOAD DATA or CREATE … SELECT logged as a statement (binlog_format STATEMENT or MIXED).</summary>
    RowsByStatement,

    /// <summary>TRUNCATE TABLE: every row is gone.</summary>
    Truncated,

    /// <summary>DROP TABLE: the table and every row are gone.</summary>
    Dropped,

    /// <summary>DROP DATABASE: every table of the schema is gone (<see cref="StatementEffect.Table"/> is null).</summary>
    DatabaseDropped,

    /// <summary>RENAME TABLE or ALTER TABLE … RENAME: the rows now live under another name (<see cref="StatementEffect.Detail"/>).</summary>
    Renamed,

    /// <summary>A primary key dropped, added or changed: rows are keyed differently from now on.</summary>
    KeyChanged,

    /// <summary>ALTER TABLE … DROP, TRUNCATE, EXCHANGE, REMOVE or REORGANIZE PARTITION, or another change that moves rows in or out wholesale.</summary>
    PartitionsChanged,
}

/// <summary>One effect of a statement on one table (or, for a dropped database, on a schema).</summary>
public sealed record StatementEffect(StatementEffectKind Kind, string Schema, string? Table, string? Detail = null)
{
    public string Name => Table is null ? Schema + ".*" : Schema + "." + Table;
}

/// <summary>
/// Reads which tables a logged statement changes wholesale, without row events: enough of MySQL's
/// and MariaDB's grammar to find the tables an INSERT/UPDATE/DELETE/REPLACE/LOAD DATA names (all
/// forms, multi-table ones included) and what TRUNCATE, DROP, RENAME and ALTER TABLE do to rows.
/// Pure; a statement it cannot read gives no effect, never a guess.
/// </summary>
/// <remarks>
/// Grammar: https://mariadb.com/kb/en/insert/, /update/, /delete/, /replace/, /load-data-infile/,
/// /truncate-table/, /drop-table/, /rename-table/, /alter-table/, /partitioning-overview/.
/// A multi-table UPDATE names every table it joins, and each counts as changed: which of them its
/// SET writes is not worth guessing, and a table stopped by mistake is loud, not lossy.
/// </remarks>
public static class StatementEffects
{
    private static readonly HashSet<string> NotAnAlias = new(StringComparer.OrdinalIgnoreCase)
    {
        "ON", "USING", "JOIN", "INNER", "CROSS", "LEFT", "RIGHT", "OUTER", "NATURAL", "STRAIGHT_JOIN", "WHERE", "SET",
        "PARTITION", "USE", "IGNORE", "FORCE", "ORDER", "LIMIT", "VALUES", "VALUE", "SELECT", "FROM", "RETURNING", "FOR",
        "LOCK", "WINDOW", "GROUP", "HAVING", "UNION", "AS",
    };

    /// <summary>The effects of <paramref name="sql"/>, with unqualified names in <paramref name="defaultSchema"/>; empty when it has none this reader knows.</summary>
    public static IReadOnlyList<StatementEffect> Of(string sql, string defaultSchema)
    {
        var tokens = Tokenize(sql);
        if (tokens.Count == 0 || !tokens[0].IsWord)
        {
            return [];
        }

        var parser = new Parser(tokens, defaultSchema);
        return parser.Read();
    }

    private sealed class Parser(List<Token> tokens, string defaultSchema)
    {
        private readonly List<StatementEffect> _effects = [];
        private int _at;

        public IReadOnlyList<StatementEffect> Read()
        {
            switch (Word())
            {
                case "INSERT":
                case "REPLACE":
                    _at++;
                    SkipWords("LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE");
                    SkipWords("INTO");
                    Add(StatementEffectKind.RowsByStatement, ReadName());
                    break;
                case "UPDATE":
                    _at++;
                    SkipWords("LOW_PRIORITY", "IGNORE");
                    foreach (var (name, _) in ReadReferences("SET"))
                    {
                        Add(StatementEffectKind.RowsByStatement, name);
                    }

                    break;
                case "DELETE":
                    _at++;
                    ReadDelete();
                    break;
                case "LOAD":
                    _at++;
                    ReadLoad();
                    break;
                case "TRUNCATE":
                    _at++;
                    SkipWords("TABLE");
                    Add(StatementEffectKind.Truncated, ReadName());
                    break;
                case "DROP":
                    _at++;
                    ReadDrop();
                    break;
                case "RENAME":
                    _at++;
                    ReadRename();
                    break;
                case "ALTER":
                    _at++;
                    ReadAlter();
                    break;
                case "CREATE":
                    _at++;
                    ReadCreate();
                    break;
            }

            return _effects;
        }

        private void ReadDelete()
        {
            SkipWords("LOW_PRIORITY", "QUICK", "IGNORE");
            if (IsWord("FROM"))
            {
                _at++;
                var from = ReadReferences("WHERE", "USING", "ORDER", "LIMIT", "RETURNING", "PARTITION");
                if (IsWord("USING"))
                {
                    // DELETE FROM t1, t2 USING t1 JOIN t2 …: the tables before USING lose rows.
                    _at++;
                    var aliases = ReadReferences("WHERE").ToList();
                    foreach (var (name, _) in from)
                    {
                        Add(StatementEffectKind.RowsByStatement, Resolve(name, aliases));
                    }

                    return;
                }

                foreach (var (name, _) in from)
                {
                    Add(StatementEffectKind.RowsByStatement, name);
                }

                return;
            }

            // DELETE t1, t2 FROM t1 JOIN t2 …: the targets may be aliases of the references.
            var targets = ReadReferences("FROM").ToList();
            if (!IsWord("FROM"))
            {
                return;
            }

            _at++;
            var references = ReadReferences("WHERE", "ORDER", "LIMIT").ToList();
            foreach (var (name, _) in targets)
            {
                Add(StatementEffectKind.RowsByStatement, Resolve(name, references));
            }
        }

        private void ReadLoad()
        {
            if (!IsWord("DATA") && !IsWord("XML"))
            {
                return;
            }

            _at++;
            SkipWords("LOW_PRIORITY", "CONCURRENT", "LOCAL");
            if (!IsWord("INFILE"))
            {
                return;
            }

            _at++;
            if (_at < tokens.Count && tokens[_at].Kind == TokenKind.String)
            {
                _at++;
            }

            SkipWords("REPLACE", "IGNORE");
            SkipWords("INTO");
            SkipWords("TABLE");
            Add(StatementEffectKind.RowsByStatement, ReadName());
        }

        private void ReadDrop()
        {
            if (IsWord("DATABASE") || IsWord("SCHEMA"))
            {
                _at++;
                SkipIfExists();
                if (ReadIdentifier() is { } schema)
                {
                    _effects.Add(new StatementEffect(StatementEffectKind.DatabaseDropped, schema, null));
                }

                return;
            }

            if (IsWord("TEMPORARY"))
            {
                // Temporary tables are never captured (their rows are not logged in row format).
                return;
            }

            if (!IsWord("TABLE"))
            {
                return;
            }

            _at++;
            SkipIfExists();
            do
            {
                Add(StatementEffectKind.Dropped, ReadName());
            }
            while (Punct(','));
        }

        private void ReadRename()
        {
            if (!IsWord("TABLE") && !IsWord("TABLES"))
            {
                return;
            }

            _at++;
            do
            {
                var from = ReadName();
                if (!IsWord("TO"))
                {
                    return;
                }

                _at++;
                var to = ReadName();
                if (from is not null && to is not null)
                {
                    Add(StatementEffectKind.Renamed, from, $"renamed to {to.Value.Schema}.{to.Value.Table}");
                    Add(StatementEffectKind.Renamed, to, $"renamed from {from.Value.Schema}.{from.Value.Table}");
                }
            }
            while (Punct(','));
        }

        private void ReadAlter()
        {
            SkipWords("ONLINE", "OFFLINE", "IGNORE");
            if (!IsWord("TABLE"))
            {
                return;
            }

            _at++;
            SkipIfExists();
            var table = ReadName();
            if (table is null)
            {
                return;
            }

            // The alter specifications, at the top level (outside parentheses).
            var depth = 0;
            var kinds = new HashSet<StatementEffectKind>();
            string? renamedTo = null;
            for (var i = _at; i < tokens.Count; i++)
            {
                var token = tokens[i];
                if (token.Kind == TokenKind.Punct)
                {
                    depth += token.Text == "(" ? 1 : token.Text == ")" ? -1 : 0;
                    continue;
                }

                if (depth != 0 || !token.IsWord)
                {
                    continue;
                }

                var word = token.Upper;
                var next = i + 1 < tokens.Count ? tokens[i + 1].Upper : "";
                var previous = i > 0 ? tokens[i - 1].Upper : "";
                switch (word)
                {
                    case "PRIMARY" when next == "KEY":
                        kinds.Add(StatementEffectKind.KeyChanged);
                        break;
                    case "PARTITION" when previous is "DROP" or "TRUNCATE" or "EXCHANGE" or "REMOVE" or "REORGANIZE" or "COALESCE" or "CONVERT":
                    case "PARTITIONING" when previous == "REMOVE":
                    case "TABLESPACE" when previous is "DISCARD" or "IMPORT":
                        kinds.Add(StatementEffectKind.PartitionsChanged);
                        break;
                    case "RENAME" when next is not ("COLUMN" or "INDEX" or "KEY" or "CONSTRAINT" or ""):
                        // RENAME [TO|AS] new_name: the rows move to another table name.
                        var save = _at;
                        _at = next is "TO" or "AS" ? i + 2 : i + 1;
                        if (ReadName() is { } to)
                        {
                            renamedTo = $"{to.Schema}.{to.Table}";
                            Add(StatementEffectKind.Renamed, to, $"renamed from {table.Value.Schema}.{table.Value.Table}");
                        }

                        _at = save;
                        break;
                }
            }

            foreach (var kind in kinds)
            {
                Add(kind, table);
            }

            if (renamedTo is not null)
            {
                Add(StatementEffectKind.Renamed, table, $"renamed to {renamedTo}");
            }
        }

        private void ReadCreate()
        {
            SkipWords("OR", "REPLACE");
            if (!IsWord("TABLE"))
            {
                return;
            }

            _at++;
            SkipIfExists();
            var table = ReadName();
            if (table is null)
            {
                return;
            }

            // CREATE TABLE … [AS] SELECT fills the new table; in row format the server logs it as
            // CREATE TABLE without the SELECT and the rows as row events.
            var depth = 0;
            for (var i = _at; i < tokens.Count; i++)
            {
                var token = tokens[i];
                depth += token.Kind == TokenKind.Punct ? (token.Text == "(" ? 1 : token.Text == ")" ? -1 : 0) : 0;
                // A column definition never starts with the bare word SELECT: after "(" it opens a query.
                if (token.IsWord && token.Upper == "SELECT" && (depth == 0 || tokens[i - 1].Text == "("))
                {
                    Add(StatementEffectKind.RowsByStatement, table);
                    return;
                }
            }
        }

        /// <summary>Table references up to a top-level stop word: each table name, with its alias when it has one.</summary>
        private IEnumerable<((string Schema, string Table) Name, string? Alias)> ReadReferences(params string[] stops)
        {
            var found = new List<((string, string), string?)>();
            var expectName = true;
            var depth = 0;
            while (_at < tokens.Count)
            {
                var token = tokens[_at];
                if (depth == 0 && token.IsWord && stops.Contains(token.Upper, StringComparer.Ordinal))
                {
                    break;
                }

                if (token.Kind == TokenKind.Punct)
                {
                    if (token.Text == "(")
                    {
                        // A parenthesized join keeps expecting its first table; an index hint's list or a condition does not.
                        depth++;
                    }
                    else if (token.Text == ")")
                    {
                        depth--;
                    }
                    else if (token.Text == ",")
                    {
                        expectName = depth == 0 || expectName;
                    }

                    _at++;
                    continue;
                }

                if (token.IsWord && token.Upper is "JOIN" or "STRAIGHT_JOIN")
                {
                    expectName = true;
                    _at++;
                    continue;
                }

                if (expectName && (token.Kind == TokenKind.Quoted || (token.IsWord && !NotAnAlias.Contains(token.Text))))
                {
                    var name = ReadName();
                    if (name is null)
                    {
                        break;
                    }

                    // t.* (a DELETE target): the star belongs to the name.
                    if (_at + 1 < tokens.Count && tokens[_at].Text == "." && tokens[_at + 1].Text == "*")
                    {
                        _at += 2;
                    }

                    string? alias = null;
                    if (IsWord("AS"))
                    {
                        _at++;
                    }

                    if (_at < tokens.Count && (tokens[_at].Kind == TokenKind.Quoted || (tokens[_at].IsWord && !NotAnAlias.Contains(tokens[_at].Text))))
                    {
                        alias = tokens[_at].Text;
                        _at++;
                    }

                    found.Add((name.Value, alias));
                    expectName = false;
                    continue;
                }

                expectName = false;
                _at++;
            }

            return found;
        }

        private (string Schema, string Table) Resolve((string Schema, string Table) target, List<((string Schema, string Table) Name, string? Alias)> references)
        {
            foreach (var (name, alias) in references)
            {
                if (alias is not null && target.Schema.Equals(defaultSchema, StringComparison.Ordinal) && alias.Equals(target.Table, StringComparison.OrdinalIgnoreCase))
                {
                    return name;
                }
            }

            return target;
        }

        private void Add(StatementEffectKind kind, (string Schema, string Table)? name, string? detail = null)
        {
            if (name is { } n && n.Schema.Length > 0 && !_effects.Any(e => e.Kind == kind && e.Schema == n.Schema && e.Table == n.Table))
            {
                _effects.Add(new StatementEffect(kind, n.Schema, n.Table, detail));
            }
        }

        /// <summary>A table name, <c>t</c>, <c>db.t</c> or quoted parts.</summary>
        private (string Schema, string Table)? ReadName()
        {
            var first = ReadIdentifier();
            if (first is null)
            {
                return null;
            }

            if (_at + 1 < tokens.Count && tokens[_at].Text == "." && tokens[_at + 1].Kind is TokenKind.Word or TokenKind.Quoted)
            {
                _at++;
                var second = ReadIdentifier()!;
                return (first, second);
            }

            return (defaultSchema, first);
        }

        private string? ReadIdentifier()
        {
            if (_at < tokens.Count && tokens[_at].Kind is TokenKind.Word or TokenKind.Quoted)
            {
                return tokens[_at++].Text;
            }

            return null;
        }

        private void SkipIfExists()
        {
            if (IsWord("IF") && _at + 1 < tokens.Count && tokens[_at + 1].Upper is "EXISTS" or "NOT")
            {
                _at += tokens[_at + 1].Upper == "NOT" ? 3 : 2;
            }
        }

        private void SkipWords(params string[] words)
        {
            while (_at < tokens.Count && tokens[_at].IsWord && words.Contains(tokens[_at].Upper, StringComparer.Ordinal))
            {
                _at++;
            }
        }

        private bool Punct(string text)
        {
            if (_at < tokens.Count && tokens[_at].Kind == TokenKind.Punct && tokens[_at].Text == text)
            {
                _at++;
                return true;
            }

            return false;
        }

        private bool Punct(char c) => Punct(c.ToString());

        private bool IsWord(string word) => _at < tokens.Count && tokens[_at].IsWord && tokens[_at].Upper == word;

        private string Word() => _at < tokens.Count && tokens[_at].IsWord ? tokens[_at].Upper : "";
    }

    private enum TokenKind
    {
        Word,
        Quoted,
        String,
        Punct,
    }

    private readonly record struct Token(TokenKind Kind, string Text)
    {
        public bool IsWord => Kind == TokenKind.Word;

        public string Upper => Kind == TokenKind.Word ? Text.ToUpperInvariant() : "";
    }

    /// <summary>Words, `quoted` identifiers (unquoted), string literals (content dropped) and punctuation; comments and whitespace skipped.</summary>
    private static List<Token> Tokenize(string sql)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                // A /*! versioned */ comment holds SQL the server runs; the server logs it as written.
                if (i + 2 < sql.Length && sql[i + 2] == '!')
                {
                    i += 3;
                    while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                    {
                        i++;
                    }

                    continue;
                }

                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
            }
            else if (c == '*' && i + 1 < sql.Length && sql[i + 1] == '/')
            {
                i += 2;
            }
            else if (c == '#' || (c == '-' && i + 2 < sql.Length && sql[i + 1] == '-' && char.IsWhiteSpace(sql[i + 2])))
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c == '`')
            {
                var text = new StringBuilder();
                i++;
                while (i < sql.Length)
                {
                    if (sql[i] == '`')
                    {
                        if (i + 1 < sql.Length && sql[i + 1] == '`')
                        {
                            text.Append('`');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    text.Append(sql[i++]);
                }

                tokens.Add(new Token(TokenKind.Quoted, text.ToString()));
            }
            else if (c is '\'' or '"')
            {
                i++;
                while (i < sql.Length)
                {
                    if (sql[i] == '\\')
                    {
                        i += 2;
                        continue;
                    }

                    if (sql[i] == c)
                    {
                        if (i + 1 < sql.Length && sql[i + 1] == c)
                        {
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    i++;
                }

                tokens.Add(new Token(TokenKind.String, ""));
            }
            else if (char.IsLetterOrDigit(c) || c is '_' or '$' || c > 0x7F)
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$' || sql[i] > 0x7F))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Word, sql[start..i]));
            }
            else
            {
                tokens.Add(new Token(TokenKind.Punct, c.ToString()));
                i++;
            }
        }

        return tokens;
    }
}
