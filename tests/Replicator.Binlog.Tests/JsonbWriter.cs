using System.Buffers.Binary;
using System.Text;

namespace Replicator.Binlog.Tests;

/// <summary>
/// A test-side writer of MySQL binary JSON, written from the format description in json_binary.h,
/// so decoder tests can cover every node type and both container sizes.
/// </summary>
public static class JsonbWriter
{
    public abstract record Node;

    public sealed record Obj(bool Large, params (string Key, Node Value)[] Members) : Node;

    public sealed record Arr(bool Large, params Node[] Items) : Node;

    public sealed record Lit(byte Value) : Node;                  // 0 null, 1 true, 2 false

    public sealed record Int(byte Type, long Value) : Node;       // 5..10 int16..uint64

    public sealed record Dbl(double Value) : Node;

    public sealed record Str(string Value) : Node;

    public sealed record Opaque(byte FieldType, byte[] Data) : Node;

    /// <summary>A whole document: type byte then value.</summary>
    public static byte[] Document(Node node)
    {
        var (type, bytes) = Encode(node);
        return [type, .. bytes];
    }

    private static (byte Type, byte[] Bytes) Encode(Node node) => node switch
    {
        Obj o => (o.Large ? (byte)1 : (byte)0, Container(o.Large, o.Members.Select(m => ((string?)m.Key, m.Value)).ToArray(), isObject: true)),
        Arr a => (a.Large ? (byte)3 : (byte)2, Container(a.Large, a.Items.Select(i => ((string?)null, i)).ToArray(), isObject: false)),
        Lit l => (4, [l.Value]),
        Int i => (i.Type, IntBytes(i.Type, i.Value)),
        Dbl d => (0x0B, BitConverter.GetBytes(d.Value)),
        Str s => (0x0C, [.. VarLength(Encoding.UTF8.GetByteCount(s.Value)), .. Encoding.UTF8.GetBytes(s.Value)]),
        Opaque o => (0x0F, [o.FieldType, .. VarLength(o.Data.Length), .. o.Data]),
        _ => throw new ArgumentException("node"),
    };

    private static byte[] IntBytes(byte type, long value) => type switch
    {
        5 or 6 => BitConverter.GetBytes((ushort)value),
        7 or 8 => BitConverter.GetBytes((uint)value),
        _ => BitConverter.GetBytes(value),
    };

    private static bool Inlined(byte type, bool large) => type is 4 or 5 or 6 || (large && type is 7 or 8);

    private static byte[] Container(bool large, (string? Key, Node Value)[] members, bool isObject)
    {
        var width = large ? 4 : 2;
        var count = members.Length;
        var headerSize = (2 * width) + (isObject ? count * (width + 2) : 0) + (count * (1 + width));
        var keys = members.Select(m => m.Key is null ? [] : Encoding.UTF8.GetBytes(m.Key)).ToArray();
        var encoded = members.Select(m => Encode(m.Value)).ToArray();
        var total = headerSize + keys.Sum(k => k.Length) + encoded.Where(e => !Inlined(e.Type, large)).Sum(e => e.Bytes.Length);
        var buffer = new byte[total];

        void Put(int at, int value)
        {
            if (large)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(at), (uint)value);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(at), checked((ushort)value));
            }
        }

        Put(0, count);
        Put(width, total);
        var cursor = headerSize;
        var keyEntries = 2 * width;
        var valueEntries = keyEntries + (isObject ? count * (width + 2) : 0);
        if (isObject)
        {
            for (var i = 0; i < count; i++)
            {
                Put(keyEntries + (i * (width + 2)), cursor);
                BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(keyEntries + (i * (width + 2)) + width), (ushort)keys[i].Length);
                keys[i].CopyTo(buffer, cursor);
                cursor += keys[i].Length;
            }
        }

        for (var i = 0; i < count; i++)
        {
            var entry = valueEntries + (i * (1 + width));
            var (type, bytes) = encoded[i];
            buffer[entry] = type;
            if (Inlined(type, large))
            {
                bytes.CopyTo(buffer, entry + 1);
            }
            else
            {
                Put(entry + 1, cursor);
                bytes.CopyTo(buffer, cursor);
                cursor += bytes.Length;
            }
        }

        return buffer;
    }

    internal static byte[] VarLength(int length)
    {
        var result = new List<byte>();
        var value = (uint)length;
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            result.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);

        return result.ToArray();
    }
}
