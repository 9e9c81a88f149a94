namespace Replicator.Engine.Capture;

/// <summary>
/// Credits for changes in flight, shared by a capture and its reader task: the reader takes credits
/// before handing changes over and waits when none are left, so the binlog is read no faster than
/// changes are applied; the capture gives credits back as changes finish. The only state the two
/// share, and safe across threads.
/// </summary>
public sealed class FlowControl
{
    private readonly object _gate = new();
    private readonly long _capacity;
    private long _available;
    private TaskCompletionSource? _waiter;
    private long _wanted;

    public FlowControl(long capacity)
    {
        _capacity = capacity;
        _available = capacity;
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

    /// <summary>Takes <paramref name="count"/> credits, waiting until enough are free. A count above capacity waits for a full pool.</summary>
    public async ValueTask AcquireAsync(long count, CancellationToken cancellationToken)
    {
        var needed = Math.Min(count, _capacity);
        Task wait;
        lock (_gate)
        {
            if (_available >= needed)
            {
                _available -= count;
                return;
            }

            _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _wanted = needed;
            wait = _waiter.Task;
        }

        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _available -= count;
        }
    }

    public void Release(long count)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            _available += count;
            if (_waiter is not null && _available >= _wanted)
            {
                wake = _waiter;
                _waiter = null;
            }
        }

        wake?.TrySetResult();
    }
}
