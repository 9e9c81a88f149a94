using System.Globalization;
using System.Text;

namespace Replicator.Binlog.Events;

/// <summary>
/// The identifier of an XA transaction (X/Open XID): a format id, a global transaction id and a
/// branch qualifier, each of the last two up to 64 bytes. The server writes it in XA statements of
/// the binlog as <c>X'gtrid-hex',X'bqual-hex',formatID</c>; <see cref="ToString"/> gives that form,
/// which is also the key that matches an XA PREPARE to its later XA COMMIT or XA ROLLBACK.
/// </summary>
public sealed class XaId : IEquatable<XaId>
{
    /// <summary>MySQL's and MariaDB's limit for each of gtrid and bqual (XIDDATASIZE / 2).</summary>
    public const int MaxPartLength = 64;

    private readonly string _text;

    public XaId(long formatId, ReadOnlySpan<byte> gtrid, ReadOnlySpan<byte> bqual)
    {
        if (gtrid.Length > MaxPartLength || bqual.Length > MaxPartLength)
        {
            throw new FormatException($"An XA id of {gtrid.Length} + {bqual.Length} bytes is longer than the {MaxPartLength} + {MaxPartLength} allowed.");
        }

        FormatId = formatId;
        _text = string.Create(CultureInfo.InvariantCulture, $"X'{Convert.ToHexString(gtrid)}',X'{Convert.ToHexString(bqual)}',{formatId}");
    }

    public long FormatId { get; }

    /// <summary>
    /// Reads the XID at the start of <paramref name="text"/>, as the server writes it after
    /// <c>XA START</c>, <c>XA END</c>, <c>XA COMMIT</c> and <c>XA ROLLBACK</c> in the binlog
    /// (<c>X'hex',X'hex',n</c>; the bqual and format id may be left out, as a client may write them).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out XaId? xid)
    {
        xid = null;
        var rest = text.TrimStart();
        if (!TryReadPart(ref rest, out var gtrid))
        {
            return false;
        }

        byte[] bqual = [];
        long formatId = 1;
        if (Comma(ref rest))
        {
            if (!TryReadPart(ref rest, out bqual))
            {
                return false;
            }

            if (Comma(ref rest))
            {
                var digits = 0;
                while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
                {
                    digits++;
                }

                if (digits == 0 || !long.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out formatId))
                {
                    return false;
                }
            }
        }

        if (gtrid.Length > MaxPartLength || bqual.Length > MaxPartLength)
        {
            return false;
        }

        xid = new XaId(formatId, gtrid, bqual);
        return true;
    }

    public bool Equals(XaId? other) => other is not null && _text == other._text;

    public override bool Equals(object? obj) => obj is XaId other && Equals(other);

    public override int GetHashCode() => _text.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => _text;

    private static bool Comma(ref ReadOnlySpan<char> rest)
    {
        rest = rest.TrimStart();
        if (rest.IsEmpty || rest[0] != ',')
        {
            return false;
        }

        rest = rest[1..].TrimStart();
        return true;
    }

    /// <summary>A hex literal <c>X'…'</c> (as the server logs it) or a quoted string <c>'…'</c>.</summary>
    private static bool TryReadPart(ref ReadOnlySpan<char> rest, out byte[] value)
    {
        value = [];
        if (rest.Length >= 3 && (rest[0] is 'X' or 'x') && rest[1] == '\'')
        {
            var end = rest[2..].IndexOf('\'');
            if (end < 0 || end % 2 != 0)
            {
                return false;
            }

            try
            {
                value = Convert.FromHexString(rest.Slice(2, end));
            }
            catch (FormatException)
            {
                return false;
            }

            rest = rest[(end + 3)..];
            return true;
        }

        if (rest.Length >= 2 && rest[0] == '\'')
        {
            var end = rest[1..].IndexOf('\'');
            if (end < 0)
            {
                return false;
            }

            value = Encoding.UTF8.GetBytes(rest.Slice(1, end).ToString());
            rest = rest[(end + 2)..];
            return true;
        }

        return false;
    }
}
