namespace Replicator.Engine.Offsets;

/// <summary>
/// Unfinished deliveries per row ordinal of one transaction, as a sliding window of counts that
/// starts at the oldest unfinished row: rows are emitted in ordinal order and mostly finish in
/// it, so adding and finishing cost O(1) without an allocation per row, and the window holds only
/// the span of rows in flight.
/// </summary>
internal sealed class PendingRows
{
    private int[] _counts = new int[16];
    private int _head;
    private int _length;
    private int _base;
    private int _rows;
    private int _deliveries;

    public bool IsEmpty => _rows == 0;

    /// <summary>Unfinished deliveries over all rows.</summary>
    public int Count => _deliveries;

    /// <summary>The ordinal of the oldest row with an unfinished delivery; only when not empty.</summary>
    public int Oldest => _base;

    public void Add(int ordinal)
    {
        if (_length == 0)
        {
            _base = ordinal;
            _head = 0;
        }
        else if (ordinal < _base)
        {
            // Not how the reader emits rows, but kept correct: widen the window downwards.
            var shift = _base - ordinal;
            Rebuild(Math.Max(_counts.Length, NextPowerOfTwo(_length + shift)), shift);
            _length += shift;
            _base = ordinal;
        }

        var offset = ordinal - _base;
        if (offset >= _length)
        {
            Grow(offset + 1);
            _length = offset + 1;
        }

        ref var count = ref _counts[(_head + offset) & (_counts.Length - 1)];
        _deliveries++;
        if (count++ == 0)
        {
            _rows++;
        }
    }

    /// <summary>Finishes one delivery of a row; false if none was unfinished.</summary>
    public bool Remove(int ordinal)
    {
        var offset = ordinal - _base;
        if (offset < 0 || offset >= _length)
        {
            return false;
        }

        ref var count = ref _counts[(_head + offset) & (_counts.Length - 1)];
        if (count == 0)
        {
            return false;
        }

        _deliveries--;
        if (--count == 0)
        {
            _rows--;
            while (_length > 0 && _counts[_head] == 0)
            {
                _head = (_head + 1) & (_counts.Length - 1);
                _base++;
                _length--;
            }
        }

        return true;
    }

    private void Grow(int length)
    {
        if (length <= _counts.Length)
        {
            return;
        }

        Rebuild(NextPowerOfTwo(length), 0);
    }

    /// <summary>Moves the window into a new array of <paramref name="capacity"/>, starting at index <paramref name="shift"/>.</summary>
    private void Rebuild(int capacity, int shift)
    {
        var counts = new int[capacity];
        for (var i = 0; i < _length; i++)
        {
            counts[shift + i] = _counts[(_head + i) & (_counts.Length - 1)];
        }

        _counts = counts;
        _head = 0;
    }

    private static int NextPowerOfTwo(int value) => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)value);
}
