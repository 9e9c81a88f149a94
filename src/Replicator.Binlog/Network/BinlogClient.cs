using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Network;

/// <summary>
/// A replica connection to one MySQL or MariaDB server: it authenticates, registers as a replica,
/// asks for a binlog dump and yields the decoded events in order.
/// </summary>
public sealed class BinlogClient : IAsyncDisposable
{
    public BinlogClient(BinlogClientOptions options)
    {
        Options = options;
    }

    public BinlogClientOptions Options { get; }

    /// <summary>What the server said of itself at the handshake; null before connecting.</summary>
    public ServerInfo? Server { get; private set; }

    /// <summary>
    /// Connects, starts the dump at <see cref="BinlogClientOptions.Start"/>, and yields every event.
    /// Ends at the end of the binlog when <see cref="BinlogClientOptions.Blocking"/> is false;
    /// otherwise runs until cancelled or the connection fails with a <see cref="BinlogException"/>.
    /// </summary>
    public IAsyncEnumerable<BinlogEvent> ReadEventsAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>The position after the last event yielded.</summary>
    public BinlogPosition? Position { get; private set; }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
