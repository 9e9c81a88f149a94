using Replicator.Binlog.Parsers;

namespace Replicator.Binlog.Tests;

/// <summary>The binlog CRC32 is zlib's.</summary>
public sealed class Crc32Tests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xE8B7BE43u)]
    [InlineData("123456789", 0xCBF43926u)]                                      // the CRC-32 check value
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Known_vectors_match_zlib(string text, uint expected)
    {
        Assert.Equal(expected, Crc32.Compute(System.Text.Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void It_agrees_with_the_bitwise_definition_at_every_length_and_alignment()
    {
        var random = new Random(4321);
        var buffer = new byte[4096 + 64];
        random.NextBytes(buffer);
        for (var length = 0; length <= 1100; length++)
        {
            foreach (var start in new[] { 0, 1, 7, 13 })
            {
                var data = buffer.AsSpan(start, length).ToArray();
                Assert.Equal(Bitwise(data), Crc32.Compute(data));
            }
        }

        Assert.Equal(Bitwise(buffer), Crc32.Compute(buffer));
    }

    private static uint Bitwise(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
