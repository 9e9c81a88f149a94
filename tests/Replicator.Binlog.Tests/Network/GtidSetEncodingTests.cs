using Replicator.Binlog.Positions;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Tests.Network;

/// <summary>The binary GTID set of COM_BINLOG_DUMP_GTID, against byte arrays worked out by hand from MySQL's layout.</summary>
public sealed class GtidSetEncodingTests
{
    private const string Uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    [Fact]
    public void An_untagged_set_uses_the_classic_layout()
    {
        var set = MySqlGtidSet.Parse($"{Uuid}:1-5:11");

        var expected = Hex(
            "0100000000000000",                 // one sid
            "3e11fa4771ca11e19e33c80aa9429562", // its uuid, in text order
            "0200000000000000",                 // two intervals
            "0100000000000000", "0600000000000000", // 1-5 is [1, 6)
            "0b00000000000000", "0c00000000000000"); // 11 is [11, 12)
        Assert.Equal(expected, GtidSetEncoding.Encode(set));
        Assert.False(GtidSetEncoding.NeedsTaggedFormat(set));
    }

    [Fact]
    public void A_set_with_a_tag_uses_the_MySQL_8_4_tagged_layout_for_every_entry()
    {
        var set = MySqlGtidSet.Parse($"{Uuid}:1-2:TK:7");

        var expected = Hex(
            "0102000000000001",                 // format 1 in bytes 0 and 7, two entries in bytes 1-6
            "3e11fa4771ca11e19e33c80aa9429562", // the untagged entry sorts first
            "00",                               // its empty tag
            "0100000000000000",
            "0100000000000000", "0300000000000000", // 1-2 is [1, 3)
            "3e11fa4771ca11e19e33c80aa9429562",
            "04", "746b",                       // tag length 2 as the server's varint (2 << 1), then "tk" in lower case
            "0100000000000000",
            "0700000000000000", "0800000000000000"); // 7 is [7, 8)
        Assert.Equal(expected, GtidSetEncoding.Encode(set));
        Assert.True(GtidSetEncoding.NeedsTaggedFormat(set));
    }

    [Fact]
    public void Sources_are_ordered_by_uuid_text_whatever_order_the_set_was_written_in()
    {
        var set = MySqlGtidSet.Parse($"{Uuid}:1,00000000-0000-0000-0000-000000000001:5");

        var expected = Hex(
            "0200000000000000",
            "00000000000000000000000000000001", "0100000000000000", "0500000000000000", "0600000000000000",
            "3e11fa4771ca11e19e33c80aa9429562", "0100000000000000", "0100000000000000", "0200000000000000");
        Assert.Equal(expected, GtidSetEncoding.Encode(set));
    }

    [Fact]
    public void The_empty_set_is_a_zero_count()
    {
        Assert.Equal(new byte[8], GtidSetEncoding.Encode(MySqlGtidSet.Empty));
    }

    private static byte[] Hex(params string[] parts) => Convert.FromHexString(string.Concat(parts));
}
