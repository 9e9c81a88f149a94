namespace Replicator.Engine.Capture;

/// <summary>
/// Credits for changes in flight, counted in changes and in their estimated wire bytes, shared by a
/// capture and its reader task: the reader takes credits before handing changes over and waits when
/// either pool is short, so the binlog is read no faster than changes are applied and wide rows
/// cannot fill memory; the capture gives credits back as changes finish. The only state the two
/// share, and safe across threads. One task waits at a time (the reader).
/// </summary>
public sealed class FlowControl
{
    private readonly object _gate = new();
    private readonly long _capacity;
    private readonly long _byteCapacity;
    private long _available;
    private long _availableBytes;
    private TaskCompletionSource? _waiter;
    private long _wanted;
    private long _wantedBytes;

    public FlowControl(long capacity, long byteCapacity)
    {
        _capacity = capacity;
        _byteCapacity = byteCapacity;
        _available = capacity;
        _availableBytes = byteCapacity;
    }

    public long Available
    {
        get
        {
            lock (_gate)
            {
                return _available;
            }
        }
    }

    public long AvailableBytes
    {
        get
        {
            lock (_gate)
            {
                return _availableBytes;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="count"/> change credits and <paramref name="bytes"/> byte credits, waiting
    /// until enough of both are free. More than a pool holds waits for that pool to be full.
    /// </summary>
    public async ValueTask AcquireAsync(long count, long bytes, CancellationToken cancellationToken)
    {
        var needed = Math.Min(count, _capacity);
        var neededBytes = Math.Min(bytes, _byteCapacity);
        Task wait;
        lock (_gate)
        {
            if (_available >= needed && _availableBytes >= neededBytes)
            {
                _available -= count;
                _availableBytes -= bytes;
                return;
            }

            _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _wanted = needed;
            _wantedBytes = neededBytes;
            wait = _waiter.Task;
        }

        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _available -= count;
            _availableBytes -= bytes;
        }
    }

    public void Release(long count, long bytes)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            _available += count;
            _availableBytes += bytes;
            if (_waiter is not null && _available >= _wanted && _availableBytes >= _wantedBytes)
            {
                wake = _waiter;
                _waiter = null;
            }
        }

        wake?.TrySetResult();
    }
}
