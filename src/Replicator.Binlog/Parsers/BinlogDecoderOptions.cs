namespace Replicator.Binlog.Parsers;

/// <summary>Choices for <see cref="BinlogEventDecoder"/>.</summary>
public sealed record BinlogDecoderOptions
{
    public static BinlogDecoderOptions Default { get; } = new();

    /// <summary>Verify each event's CRC32 when the format description says the server writes one. Default on.</summary>
    public bool VerifyChecksums { get; init; } = true;
}
