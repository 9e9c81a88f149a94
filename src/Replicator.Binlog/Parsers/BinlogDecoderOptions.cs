namespace Replicator.Binlog.Parsers;

/// <summary>Choices for <see cref="BinlogEventDecoder"/>.</summary>
public sealed record BinlogDecoderOptions
{
    public static BinlogDecoderOptions Default { get; } = new();

    /// <summary>Verify each event's CRC32 when the format description says the server writes one. Default on.</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// The most bytes one compressed event (a MariaDB compressed QUERY or rows event, a MySQL
    /// TRANSACTION_PAYLOAD) may inflate to. A larger declared size fails before anything is
    /// allocated; inflating allocates as the bytes come, never what the header only declares.
    /// </summary>
    public int MaxDecompressedSize { get; init; } = BinlogEventDecoder.MaxEventSize;
}
