namespace Replicator.Engine.Capture;

/// <summary>
/// Where a capture's changes come from: a MySQL or MariaDB binlog today (<see cref="BinlogChangeSource"/>),
/// an outbox table, a stream or a snapshot later. A source is made for one read from a start offset
/// of its own kind and yields what it reads as <see cref="CaptureItem"/> batches, in source order.
/// The capture owns everything else: routing, acknowledgements, the offset and restarts. A source
/// that fails throws; the capture makes a new one from its safe offset after a backoff.
/// </summary>
public interface IChangeSource
{
    /// <summary>
    /// Reads until <paramref name="cancellationToken"/> is cancelled or the source fails. A batch's
    /// flow-control credits (one per <see cref="ChangeCaptured"/>, and its estimated size) are taken
    /// before it is yielded, so a slow pipeline holds the source back.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<CaptureItem>> ReadAsync(CancellationToken cancellationToken);
}
