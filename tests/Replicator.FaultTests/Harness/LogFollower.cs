using System.Text;

namespace Replicator.FaultTests.Harness;

/// <summary>Reads the lines a node appends to its log since the last read, as <c>tail -f</c> does.</summary>
public sealed class LogFollower(string path)
{
    private long _offset;

    /// <summary>Starts from the current end: what is already there is not returned.</summary>
    public void Skip() => _offset = File.Exists(path) ? new FileInfo(path).Length : 0;

    /// <summary>The complete lines written since the last call.</summary>
    public IReadOnlyList<string> NextLines()
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.Length <= _offset)
        {
            return [];
        }

        // Only whole lines are taken (a line being written is read next time), so a character
        // is never cut in two.
        stream.Seek(_offset, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - _offset];
        stream.ReadExactly(buffer);
        var end = Array.LastIndexOf(buffer, (byte)'\n');
        if (end < 0)
        {
            return [];
        }

        _offset += end + 1;
        return Encoding.UTF8.GetString(buffer, 0, end).Split('\n');
    }
}
