using System.Text;

namespace Replicator.Binlog.Columns;

/// <summary>
/// Turns the bytes of a character column into a <see cref="ColumnValue"/> according to its
/// collation: text for a known character set, bytes for the binary collation (63).
/// Collation ids: https://dev.mysql.com/doc/refman/8.4/en/information-schema-collations-table.html
/// and https://mariadb.com/kb/en/supported-character-sets-and-collations/.
/// </summary>
internal sealed class TextDecoder
{
    /// <summary>The collation id of the binary pseudo character set.</summary>
    public const int BinaryCollation = 63;

    private readonly Kind _kind;
    private readonly Encoding? _encoding;

    private TextDecoder(Kind kind, Encoding? encoding)
    {
        _kind = kind;
        _encoding = encoding;
    }

    private enum Kind : byte
    {
        Utf8,
        Latin1,
        Binary,
        Other,
    }

    public static TextDecoder Utf8 { get; } = new(Kind.Utf8, null);

    /// <summary>MySQL's latin1, which is Windows-1252 with its five undefined bytes mapped to the C1 controls.</summary>
    public static TextDecoder Latin1 { get; } = new(Kind.Latin1, null);

    public static TextDecoder Binary { get; } = new(Kind.Binary, null);

    public bool IsBinary => _kind == Kind.Binary;

    private static readonly Dictionary<int, TextDecoder> ByCollation = BuildCollationMap();

    /// <summary>
    /// The decoder for a collation id. Unknown ids (and 0, "not known") decode as UTF-8, which is
    /// right for every utf8mb3/utf8mb4 collation, MySQL's and MariaDB's alike.
    /// </summary>
    public static TextDecoder ForCollation(int collation)
    {
        if (ByCollation.TryGetValue(collation, out var decoder))
        {
            return decoder;
        }

        // MariaDB numbers its NO PAD variants 1024 above the PAD SPACE collation of the same charset.
        if (collation is >= 1024 and < 2048 && ByCollation.TryGetValue(collation - 1024, out decoder))
        {
            return decoder;
        }

        return Utf8;
    }

    public ColumnValue Decode(ReadOnlySpan<byte> bytes) => _kind switch
    {
        Kind.Utf8 => ColumnValue.FromString(DecodeUtf8(bytes)),
        Kind.Binary => ColumnValue.FromBytes(bytes.ToArray()),
        Kind.Latin1 => ColumnValue.FromString(DecodeLatin1(bytes)),
        _ => ColumnValue.FromString(_encoding!.GetString(bytes)),
    };

    public string DecodeString(ReadOnlySpan<byte> bytes) => _kind switch
    {
        Kind.Latin1 => DecodeLatin1(bytes),
        Kind.Other => _encoding!.GetString(bytes),
        _ => Encoding.UTF8.GetString(bytes),
    };

    /// <summary>The longest value <see cref="DecodeUtf8"/> widens itself when it is ASCII.</summary>
    private const int ShortAscii = 32;

    /// <summary>
    /// UTF-8 text. A short ASCII value (keys, codes, names) is the same text widened byte by byte,
    /// which is done here in one pass; <see cref="Encoding.UTF8"/> counts the characters and then
    /// transcodes, a fixed cost that outweighs the work for a few bytes.
    /// </summary>
    private static string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        if (bytes.Length <= ShortAscii && Ascii.IsValid(bytes))
        {
            return string.Create(bytes.Length, bytes, static (chars, ascii) =>
            {
                for (var i = 0; i < chars.Length; i++)
                {
                    chars[i] = (char)ascii[i];
                }
            });
        }

        return Encoding.UTF8.GetString(bytes);
    }

    private static string DecodeLatin1(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        if (System.Text.Ascii.IsValid(bytes))
        {
            return Encoding.ASCII.GetString(bytes);
        }

        return string.Create(bytes.Length, bytes, static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var b = source[i];
                chars[i] = b is >= 0x80 and < 0xA0 ? Cp1252High[b - 0x80] : (char)b;
            }
        });
    }

    // 0x80..0x9F of Windows-1252; MySQL's latin1 keeps 0x81, 0x8D, 0x8F, 0x90 and 0x9D as U+0081.. (strings/ctype-latin1.cc).
    private static readonly char[] Cp1252High =
    [
        '\u20AC', '\u0081', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021',
        '\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008D', '\u017D', '\u008F',
        '\u0090', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014',
        '\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\u009D', '\u017E', '\u0178',
    ];

    private static Dictionary<int, TextDecoder> BuildCollationMap()
    {
        var map = new Dictionary<int, TextDecoder>();

        void Add(TextDecoder decoder, params int[] ids)
        {
            foreach (var id in ids)
            {
                map[id] = decoder;
            }
        }

        void AddRange(TextDecoder decoder, int first, int last)
        {
            for (var id = first; id <= last; id++)
            {
                map[id] = decoder;
            }
        }

        void AddCodePage(int codePage, params int[] ids)
        {
            var encoding = CodePage(codePage);
            if (encoding is not null)
            {
                Add(new TextDecoder(Kind.Other, encoding), ids);
            }
        }

        Add(Binary, BinaryCollation);
        // latin1_german1_ci, latin1_swedish_ci, latin1_danish_ci, latin1_german2_ci, latin1_bin,
        // latin1_general_ci, latin1_general_cs, latin1_spanish_ci.
        Add(Latin1, 5, 8, 15, 31, 47, 48, 49, 94);
        // ascii_general_ci, ascii_bin: 7-bit, so decoding as latin1 never loses a byte.
        Add(Latin1, 11, 65);

        var utf16 = new TextDecoder(Kind.Other, new UnicodeEncoding(bigEndian: true, byteOrderMark: false));
        var utf16Le = new TextDecoder(Kind.Other, new UnicodeEncoding(bigEndian: false, byteOrderMark: false));
        var utf32 = new TextDecoder(Kind.Other, new UTF32Encoding(bigEndian: true, byteOrderMark: false));
        Add(utf16, 35, 90, 159, 54, 55); // ucs2_general_ci, ucs2_bin, ucs2_general_mysql500_ci, utf16_general_ci, utf16_bin
        AddRange(utf16, 101, 124);       // utf16_unicode_ci ..
        AddRange(utf16, 128, 151);       // ucs2_unicode_ci ..
        AddRange(utf16, 640, 703);       // MariaDB ucs2_/utf16_ language collations
        Add(utf16Le, 56, 62);            // utf16le_general_ci, utf16le_bin
        Add(utf32, 60, 61);              // utf32_general_ci, utf32_bin
        AddRange(utf32, 160, 183);       // utf32_unicode_ci ..
        AddRange(utf32, 736, 767);       // MariaDB utf32_ language collations

        AddCodePage(1250, 26, 34, 44, 66, 99);
        AddCodePage(1251, 14, 23, 50, 51, 52);
        AddCodePage(1256, 57, 67);
        AddCodePage(1257, 29, 58, 59);
        AddCodePage(28592, 2, 9, 21, 27, 77);   // latin2
        AddCodePage(28599, 30, 78);             // latin5
        AddCodePage(28603, 20, 41, 42, 79);     // latin7
        AddCodePage(28597, 25, 70);             // greek
        AddCodePage(28598, 16, 71);             // hebrew
        AddCodePage(20866, 7, 74);              // koi8r
        AddCodePage(21866, 22, 75);             // koi8u
        AddCodePage(866, 36, 68);
        AddCodePage(852, 40, 81);
        AddCodePage(850, 4, 80);
        AddCodePage(932, 13, 88, 95, 96);       // sjis, cp932
        AddCodePage(51932, 12, 91, 97, 98);     // ujis, eucjpms
        AddCodePage(51949, 19, 85);             // euckr
        AddCodePage(936, 24, 86, 28, 87);       // gb2312, gbk
        AddCodePage(950, 1, 84);                // big5
        AddCodePage(54936, 248, 249, 250);      // gb18030
        AddCodePage(874, 18, 89);               // tis620
        AddCodePage(10000, 39, 53);             // macroman
        AddCodePage(10029, 38, 43);             // macce
        return map;
    }

    private static Encoding? CodePage(int codePage)
    {
        try
        {
            return CodePagesEncodingProvider.Instance.GetEncoding(codePage);
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
