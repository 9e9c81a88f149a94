using System.Globalization;

namespace Replicator.Engine.Model;

/// <summary>
/// Orders the changes of one pk as the source made them: the binlog file's sequence number, the
/// position of the rows event (of the TRANSACTION_PAYLOAD for compressed transactions) and the row's
/// index in it. <see cref="ToString"/> is fixed-width hex, so sinks compare versions as strings.
/// </summary>
/// <remarks>
/// Versions start over if the source's binlog is reset (RESET MASTER): sinks fenced by version would
/// then refuse new writes until their version keys are cleared. Re-seed sinks after such a reset.
/// </remarks>
public readonly record struct SourceVersion(long FileSequence, long Position, int Row) : IComparable<SourceVersion>
{
    /// <summary>26 hex digits: 8 for the file, 12 for the position, 6 for the row.</summary>
    public const int TextLength = 26;

    public static SourceVersion Zero => default;

    public int CompareTo(SourceVersion other)
    {
        var c = FileSequence.CompareTo(other.FileSequence);
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

    public override string ToString() =>
        (ulong)FileSequence <= 0xFFFF_FFFF && (ulong)Position <= 0xFFFF_FFFF_FFFF && (uint)Row <= 0xFF_FFFF
            ? string.Create(TextLength, this, static (text, version) =>
            {
                WriteHex(text[..8], version.FileSequence);
                WriteHex(text.Slice(8, 12), version.Position);
                WriteHex(text.Slice(20, 6), version.Row);
            })
            : string.Create(CultureInfo.InvariantCulture, $"{FileSequence:x8}{Position:x12}{Row:x6}");

    private static void WriteHex(Span<char> into, long value)
    {
        for (var i = into.Length - 1; i >= 0; i--)
        {
            into[i] = "0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }

    public static SourceVersion Parse(string text)
    {
        if (text.Length != TextLength
            || !long.TryParse(text.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var file)
            || !long.TryParse(text.AsSpan(8, 12), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var position)
            || !int.TryParse(text.AsSpan(20, 6), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var row))
        {
            throw new FormatException($"'{text}' is not a source version ({TextLength} hex digits).");
        }

        return new SourceVersion(file, position, row);
    }
}
