using Replicator.Binlog.Events;
using Replicator.Binlog.Positions;

namespace Replicator.Binlog.Network;

/// <summary>
/// A replica connection to one MySQL or MariaDB server: it authenticates, registers as a replica,
/// asks for a binlog dump and yields the decoded events in order.
/// <para>
/// It never reconnects by itself: when the connection fails, the enumeration ends with a
/// <see cref="BinlogException"/> and the socket is closed. The caller decides when and from which
/// position to start again (a new <see cref="ReadEventsAsync"/> call with a new start position).
/// </para>
/// </summary>
public sealed partial class BinlogClient : IAsyncDisposable
{
    private BinlogConnection? _connection;
    private int _reading;
    private volatile bool _disposed;

    /// <exception cref="BinlogConfigurationException">The options are invalid (for instance ServerId 0).</exception>
    public BinlogClient(BinlogClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    public BinlogClientOptions Options { get; }

    /// <summary>What the server said of itself at the handshake; null before connecting.</summary>
    public ServerInfo? Server { get; private set; }

    /// <summary>
    /// Connects, starts the dump at <see cref="BinlogClientOptions.Start"/>, and yields every event.
    /// Ends at the end of the binlog when <see cref="BinlogClientOptions.Blocking"/> is false;
    /// otherwise runs until cancelled or the connection fails with a <see cref="BinlogException"/>.
    /// Heartbeat events are yielded too, so a caller can tell an idle source from a dead one.
    /// One enumeration at a time.
    /// </summary>
    public IAsyncEnumerable<BinlogEvent> ReadEventsAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new EventSequence(this, cancellationToken);
    }

    /// <summary>The position after the last event yielded.</summary>
    public BinlogPosition? Position { get; private set; }

    /// <summary>Closes the connection; a running enumeration then fails with a <see cref="BinlogConnectionException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public override string ToString() => $"BinlogClient({Options})";
}
