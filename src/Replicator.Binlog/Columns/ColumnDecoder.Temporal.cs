using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Columns;

/// <summary>
/// Temporal cells. The fractional-second temporals (TIME2, DATETIME2, TIMESTAMP2, MySQL 5.6.4+
/// and MariaDB's default mysql56_temporal_format) are big-endian with an offset that makes them
/// sort as unsigned bytes, followed by (fsp + 1) / 2 bytes of fraction
/// (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_dt_integers.html has the
/// integer types; the temporal layouts are MySQL's <c>my_time.cc</c> "packed" formats, described in
/// https://dev.mysql.com/doc/refman/8.4/en/storage-requirements.html#data-types-storage-reqs-date-time).
/// Zero dates and zero-in-date values are kept field by field, never normalised.
/// </summary>
internal static partial class ColumnDecoder
{
    private const long Time2IntegerOffset = 0x800000;
    private const long Time2WholeOffset = 0x800000000000;
    private const long DateTime2Offset = 0x8000000000;

    /// <summary>DATE: 3 bytes little-endian, day in bits 0-4, month in bits 5-8, year above.</summary>
    private static ColumnValue DecodeDate(ref ByteReader reader)
    {
        var v = reader.ReadUInt24();
        return ColumnValue.FromDate((int)(v >> 9), (int)((v >> 5) & 0xF), (int)(v & 0x1F));
    }

    /// <summary>TIME (pre-5.6.4): 3 bytes little-endian signed, the decimal number HHMMSS.</summary>
    private static ColumnValue DecodeOldTime(ref ByteReader reader)
    {
        var raw = (int)(reader.ReadUInt24() << 8) >> 8;
        var negative = raw < 0;
        var v = Math.Abs(raw);
        var seconds = ((long)(v / 10000) * 3600) + ((v / 100 % 100) * 60) + (v % 100);
        var micros = seconds * 1_000_000;
        return ColumnValue.FromTime(negative ? -micros : micros, 0);
    }

    /// <summary>DATETIME (pre-5.6.4): 8 bytes little-endian, the decimal number YYYYMMDDhhmmss.</summary>
    private static ColumnValue DecodeOldDateTime(ref ByteReader reader)
    {
        var v = reader.ReadUInt64();
        var date = v / 1_000_000;
        var time = v % 1_000_000;
        return ColumnValue.FromDateTime(
            (int)(date / 10000), (int)(date / 100 % 100), (int)(date % 100),
            (int)(time / 10000), (int)(time / 100 % 100), (int)(time % 100), 0, 0);
    }

    /// <summary>
    /// TIME2(fsp): 3 bytes big-endian offset by 0x800000 holding hour(10 bits) minute(6) second(6)
    /// after a sign bit, then the fraction: 1 byte of centiseconds (fsp 1-2), 2 bytes of
    /// ten-thousandths (fsp 3-4), or with fsp 5-6 all 6 bytes together offset by 0x800000000000.
    /// A negative value's fraction is stored as its complement with the integer part one lower, so
    /// the bytes sort; decoding gives the borrow back.
    /// </summary>
    public static ColumnValue DecodeTime2(ref ByteReader reader, int fsp)
    {
        long packed;
        switch (fsp)
        {
            case 0:
                packed = ((long)reader.ReadUIntNBigEndian(3) - Time2IntegerOffset) << 24;
                break;
            case 1:
            case 2:
            {
                var integer = (long)reader.ReadUIntNBigEndian(3) - Time2IntegerOffset;
                // Unsigned on disk: a negative value stores 0x100 minus its fraction and one less in the integer part.
                long fraction = reader.ReadByte();
                if (integer < 0 && fraction != 0)
                {
                    integer++;
                    fraction -= 0x100;
                }

                packed = (integer << 24) + (fraction * 10000);
                break;
            }

            case 3:
            case 4:
            {
                var integer = (long)reader.ReadUIntNBigEndian(3) - Time2IntegerOffset;
                long fraction = (long)reader.ReadUIntNBigEndian(2);
                if (integer < 0 && fraction != 0)
                {
                    integer++;
                    fraction -= 0x10000;
                }

                packed = (integer << 24) + (fraction * 100);
                break;
            }

            case 5:
            case 6:
                packed = (long)reader.ReadUIntNBigEndian(6) - Time2WholeOffset;
                break;
            default:
                throw new FormatException($"TIME2 with {fsp} fractional digits is not valid (0 to 6).");
        }

        var negative = packed < 0;
        var magnitude = Math.Abs(packed);
        var hms = magnitude >> 24;
        var micro = magnitude & 0xFFFFFF;
        var hours = (hms >> 12) & 0x3FF;
        var minutes = (hms >> 6) & 0x3F;
        var seconds = hms & 0x3F;
        var total = ((((hours * 60) + minutes) * 60) + seconds) * 1_000_000 + micro;
        return ColumnValue.FromTime(negative ? -total : total, fsp);
    }

    /// <summary>
    /// DATETIME2(fsp): 5 bytes big-endian offset by 0x8000000000: sign(1) year*13+month(17)
    /// day(5) hour(5) minute(6) second(6), then the fraction as for TIME2.
    /// </summary>
    public static ColumnValue DecodeDateTime2(ref ByteReader reader, int fsp)
    {
        var integer = (long)reader.ReadUIntNBigEndian(5) - DateTime2Offset;
        var micro = ReadFraction(ref reader, fsp, signed: true);
        var ymd = integer >> 17;
        var ym = ymd >> 5;
        var hms = integer & 0x1FFFF;
        return ColumnValue.FromDateTime(
            (int)(ym / 13), (int)(ym % 13), (int)(ymd & 0x1F),
            (int)(hms >> 12), (int)((hms >> 6) & 0x3F), (int)(hms & 0x3F), micro, fsp);
    }

    /// <summary>TIMESTAMP2(fsp): 4 bytes big-endian seconds since the epoch, then the fraction.</summary>
    public static ColumnValue DecodeTimestamp2(ref ByteReader reader, int fsp)
    {
        var seconds = (long)reader.ReadUIntNBigEndian(4);
        var micro = ReadFraction(ref reader, fsp, signed: false);
        return ColumnValue.FromTimestamp(seconds, micro, fsp);
    }

    // MariaDB's pre-10.1 "hires" temporals (sql/field.cc, Field_*_hires): a big-endian number of
    // units of 10^-fsp seconds, in the fewest bytes that hold the type's range at that precision.
    private static readonly int[] HiresFractionBytes = [0, 1, 1, 2, 2, 3, 3];
    private static readonly int[] HiresDateTimeBytes = [5, 6, 6, 7, 7, 7, 8];
    private static readonly int[] HiresTimeBytes = [3, 4, 4, 5, 5, 5, 6];
    private static readonly long[] Scales = [1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];

    /// <summary>The largest TIME, 838:59:59, in seconds; MariaDB offsets hires TIME values by one more than it.</summary>
    private const long TimeMaxSeconds = (838 * 3600) + (59 * 60) + 59;

    /// <summary>MariaDB TIMESTAMP(fsp) hires: 4 bytes big-endian seconds, then the fraction big-endian in (fsp + 1) / 2 bytes.</summary>
    private static ColumnValue DecodeHiresTimestamp(ref ByteReader reader, int fsp)
    {
        var seconds = (long)reader.ReadUIntNBigEndian(4);
        var fraction = (long)reader.ReadUIntNBigEndian(HiresFractionBytes[fsp]);
        return ColumnValue.FromTimestamp(seconds, (int)(fraction * Scales[fsp]), fsp);
    }

    /// <summary>
    /// MariaDB DATETIME(fsp) hires: ((((((year*13+month)*32+day)*24+hour)*60+minute)*60+second)*10^6+micro)
    /// divided by 10^(6-fsp), big-endian.
    /// </summary>
    private static ColumnValue DecodeHiresDateTime(ref ByteReader reader, int fsp)
    {
        var v = (long)reader.ReadUIntNBigEndian(HiresDateTimeBytes[fsp]) * Scales[fsp];
        var micro = (int)(v % 1_000_000);
        v /= 1_000_000;
        var second = (int)(v % 60);
        v /= 60;
        var minute = (int)(v % 60);
        v /= 60;
        var hour = (int)(v % 24);
        v /= 24;
        var day = (int)(v % 32);
        v /= 32;
        return ColumnValue.FromDateTime((int)(v / 13), (int)(v % 13), day, hour, minute, second, micro, fsp);
    }

    /// <summary>MariaDB TIME(fsp) hires: signed microseconds divided by 10^(6-fsp), offset by (838:59:59 + 1s) at that scale, big-endian.</summary>
    private static ColumnValue DecodeHiresTime(ref ByteReader reader, int fsp)
    {
        var zeroPoint = (TimeMaxSeconds + 1) * 1_000_000 / Scales[fsp];
        var units = (long)reader.ReadUIntNBigEndian(HiresTimeBytes[fsp]) - zeroPoint;
        return ColumnValue.FromTime(units * Scales[fsp], fsp);
    }

    private static int ReadFraction(ref ByteReader reader, int fsp, bool signed)
    {
        switch (fsp)
        {
            case 0:
                return 0;
            case 1:
            case 2:
            {
                var b = reader.ReadByte();
                return (signed ? (sbyte)b : b) * 10000;
            }

            case 3:
            case 4:
            {
                var v = (int)reader.ReadUIntNBigEndian(2);
                return (signed ? (short)v : v) * 100;
            }

            case 5:
            case 6:
            {
                var v = (int)reader.ReadUIntNBigEndian(3);
                return signed ? (v << 8) >> 8 : v;
            }

            default:
                throw new FormatException($"A temporal with {fsp} fractional digits is not valid (0 to 6).");
        }
    }
}
