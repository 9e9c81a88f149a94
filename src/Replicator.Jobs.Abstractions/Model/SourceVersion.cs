using System.Globalization;
using Replicator.Binlog.Positions;

namespace Replicator.Model;

/// <summary>What a <see cref="SourceVersion"/> orders by.</summary>
public enum SourceVersionKind
{
    /// <summary>The binlog file's sequence number, the event's position and the row's index in it: ordered on one server only.</summary>
    Position = 0,

    /// <summary>The MariaDB GTID position after the transaction and the row's place in it: ordered across a topology's servers.</summary>
    Gtid = 1,
}

/// <summary>
/// Orders the changes of one pk as the source made them; sinks keep the newest they wrote and
/// refuse an older one, comparing <see cref="ToString"/> as text.
/// </summary>
/// <remarks>
/// <para>
/// On MariaDB every transaction has a GTID, and a change is versioned by the GTID position after
/// its transaction, as its rank (the sum of the position's sequence numbers, one per domain), then
/// by the row's ordinal in the transaction. Each transaction a server logs raises one domain's
/// sequence, so the rank grows with every transaction of one binlog, whatever the domain; a replica
/// of the same topology logs the same transactions with the same GTIDs and reaches the same
/// positions, so a promoted replica goes on from where the old server was (promise: resume by GTID,
/// the whole GTID position kept in the offset). Under <c>gtid_strict_mode=OFF</c> a domain's
/// sequence can go back; preflight warns about it.
/// </para>
/// <para>
/// Elsewhere (MySQL, transactions without a GTID) a change is versioned by position: the binlog
/// file's sequence number, the position of the rows event (of the TRANSACTION_PAYLOAD for
/// compressed transactions) and the row's index in it. Such versions start over after a RESET
/// MASTER and differ on every server, so a capture never resumes by position on another binlog.
/// </para>
/// <para>
/// Text: positional versions are 26 hex digits (8 for the file, 12 for the position, 6 for the
/// row); GTID versions are <c>g</c>, 16 hex digits of rank and 8 of the row. <c>g</c> sorts after
/// every hex digit, so a GTID version is newer than every positional one, and a sink that holds
/// versions written before GTID versions existed takes the first GTID-versioned change of a row.
/// </para>
/// </remarks>
public readonly record struct SourceVersion : IComparable<SourceVersion>
{
    /// <summary>The length of a positional version's text: 26 hex digits.</summary>
    public const int TextLength = 26;

    /// <summary>The length of a GTID version's text: <c>g</c> and 24 hex digits.</summary>
    public const int GtidTextLength = 25;

    private const char GtidMark = 'g';

    /// <summary>A positional version.</summary>
    public SourceVersion(long fileSequence, long position, int row)
    {
        Kind = SourceVersionKind.Position;
        FileSequence = fileSequence;
        Position = position;
        Row = row;
    }

    private SourceVersion(ulong rank, int row)
    {
        Kind = SourceVersionKind.Gtid;
        Rank = rank;
        Row = row;
    }

    public static SourceVersion Zero => default;

    public SourceVersionKind Kind { get; }

    /// <summary>The binlog file's sequence number (positional versions).</summary>
    public long FileSequence { get; }

    /// <summary>The rows event's position in its file (positional versions).</summary>
    public long Position { get; }

    /// <summary>The sum of the GTID position's sequence numbers after the transaction (GTID versions).</summary>
    public ulong Rank { get; }

    /// <summary>The row's index in its rows event (positional) or in its transaction (GTID).</summary>
    public int Row { get; }

    /// <summary>The version of row <paramref name="row"/> (its ordinal in the transaction) of a transaction of GTID rank <paramref name="rank"/>.</summary>
    public static SourceVersion OfGtid(ulong rank, int row) => new(rank, row);

    /// <summary>The rank of the GTID position after <paramref name="gtid"/>'s transaction, logged at position <paramref name="before"/>.</summary>
    public static ulong GtidRank(MariaDbGtidPosition before, MariaDbGtid gtid)
    {
        var rank = gtid.Sequence;
        foreach (var other in before.Gtids)
        {
            if (other.DomainId != gtid.DomainId)
            {
                rank = checked(rank + other.Sequence);
            }
        }

        return rank;
    }

    public int CompareTo(SourceVersion other)
    {
        var c = Kind.CompareTo(other.Kind);
        if (c != 0)
        {
            return c;
        }

        if (Kind == SourceVersionKind.Gtid)
        {
            c = Rank.CompareTo(other.Rank);
            return c != 0 ? c : Row.CompareTo(other.Row);
        }

        c = FileSequence.CompareTo(other.FileSequence);
        if (c != 0)
        {
            return c;
        }

        c = Position.CompareTo(other.Position);
        return c != 0 ? c : Row.CompareTo(other.Row);
    }

    public static bool operator <(SourceVersion left, SourceVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(SourceVersion left, SourceVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(SourceVersion left, SourceVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(SourceVersion left, SourceVersion right) => left.CompareTo(right) >= 0;

    public override string ToString()
    {
        if (Kind == SourceVersionKind.Gtid)
        {
            return string.Create(GtidTextLength, this, static (text, version) =>
            {
                text[0] = GtidMark;
                WriteHex(text.Slice(1, 16), version.Rank);
                WriteHex(text.Slice(17, 8), (uint)version.Row);
            });
        }

        return (ulong)FileSequence <= 0xFFFF_FFFF && (ulong)Position <= 0xFFFF_FFFF_FFFF && (uint)Row <= 0xFF_FFFF
            ? string.Create(TextLength, this, static (text, version) =>
            {
                WriteHex(text[..8], (ulong)version.FileSequence);
                WriteHex(text.Slice(8, 12), (ulong)version.Position);
                WriteHex(text.Slice(20, 6), (ulong)version.Row);
            })
            : string.Create(CultureInfo.InvariantCulture, $"{FileSequence:x8}{Position:x12}{Row:x6}");
    }

    private static void WriteHex(Span<char> into, ulong value)
    {
        for (var i = into.Length - 1; i >= 0; i--)
        {
            into[i] = "0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }

    public static SourceVersion Parse(string text)
    {
        if (text.Length == GtidTextLength && text[0] == GtidMark
            && ulong.TryParse(text.AsSpan(1, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var rank)
            && int.TryParse(text.AsSpan(17, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var gtidRow)
            && gtidRow >= 0)
        {
            return OfGtid(rank, gtidRow);
        }

        if (text.Length != TextLength
            || !long.TryParse(text.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var file)
            || !long.TryParse(text.AsSpan(8, 12), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var position)
            || !int.TryParse(text.AsSpan(20, 6), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var row))
        {
            throw new FormatException($"'{text}' is not a source version ({TextLength} hex digits, or '{GtidMark}' and {GtidTextLength - 1}).");
        }

        return new SourceVersion(file, position, row);
    }
}
