using System.Numerics;
using System.Security.Cryptography;

namespace Replicator.Binlog.Vendors.MariaDb;

/// <summary>
/// Ed25519 signing (RFC 8032 §5.1) over <see cref="BigInteger"/> arithmetic, for MariaDB's
/// client_ed25519 authentication. The secret is hashed with SHA-512 as RFC 8032 hashes its
/// 32-byte seed; MariaDB hashes the password of any length the same way, so both are one code
/// path. Points use extended twisted Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z.
/// <para>
/// Not constant-time: a client signs one server nonce per login, which gives a remote observer
/// no useful timing signal. Do not reuse this for server-side or bulk signing.
/// </para>
/// https://www.rfc-editor.org/rfc/rfc8032#section-5.1
/// </summary>
internal static class Ed25519
{
    public const int PublicKeySize = 32;
    public const int SignatureSize = 64;

    /// <summary>p = 2^255 - 19.</summary>
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;

    /// <summary>The group order L = 2^252 + 27742317777372353535851937790883648493.</summary>
    private static readonly BigInteger L = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>d = -121665 / 121666 mod p.</summary>
    private static readonly BigInteger D = Mod(-121665 * Inverse(121666));

    private static readonly BigInteger TwoD = Mod(2 * D);

    private static readonly Point BasePoint = CreateBasePoint();

    private static readonly Point Identity = new(BigInteger.Zero, BigInteger.One, BigInteger.One, BigInteger.Zero);

    /// <summary>The public key A = [a]B of a secret (an RFC 8032 seed, or a MariaDB password).</summary>
    public static byte[] PublicKey(ReadOnlySpan<byte> secret)
    {
        var hash = SHA512.HashData(secret);
        try
        {
            return Encode(Multiply(ClampedScalar(hash), BasePoint));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
        }
    }

    /// <summary>The 64-byte signature R || S of <paramref name="message"/>.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> secret)
    {
        var hash = SHA512.HashData(secret);
        try
        {
            var a = ClampedScalar(hash);
            var publicKey = Encode(Multiply(a, BasePoint));

            var prefixed = new byte[32 + message.Length];
            hash.AsSpan(32, 32).CopyTo(prefixed);
            message.CopyTo(prefixed.AsSpan(32));
            var r = ScalarFromHash(SHA512.HashData(prefixed));
            CryptographicOperations.ZeroMemory(prefixed);

            var encodedR = Encode(Multiply(r, BasePoint));
            var challenge = new byte[64 + message.Length];
            encodedR.CopyTo(challenge, 0);
            publicKey.CopyTo(challenge, 32);
            message.CopyTo(challenge.AsSpan(64));
            var k = ScalarFromHash(SHA512.HashData(challenge));

            var s = (r + (k * a)) % L;
            var signature = new byte[SignatureSize];
            encodedR.CopyTo(signature, 0);
            WriteLittleEndian(s, signature.AsSpan(32, 32));
            return signature;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
        }
    }

    /// <summary>a: the first half of SHA-512(secret) with bits 0-2 and 255 cleared and bit 254 set.</summary>
    private static BigInteger ClampedScalar(ReadOnlySpan<byte> hash)
    {
        Span<byte> scalar = stackalloc byte[32];
        hash[..32].CopyTo(scalar);
        scalar[0] &= 248;
        scalar[31] &= 127;
        scalar[31] |= 64;
        var value = new BigInteger(scalar, isUnsigned: true, isBigEndian: false);
        scalar.Clear();
        return value;
    }

    private static BigInteger ScalarFromHash(ReadOnlySpan<byte> hash) =>
        new BigInteger(hash, isUnsigned: true, isBigEndian: false) % L;

    private static Point Add(Point p, Point q)
    {
        var a = Mod((p.Y - p.X) * (q.Y - q.X));
        var b = Mod((p.Y + p.X) * (q.Y + q.X));
        var c = Mod(p.T * TwoD * q.T);
        var d = Mod(2 * p.Z * q.Z);
        var e = b - a;
        var f = d - c;
        var g = d + c;
        var h = b + a;
        return new Point(Mod(e * f), Mod(g * h), Mod(f * g), Mod(e * h));
    }

    private static Point Multiply(BigInteger scalar, Point point)
    {
        var result = Identity;
        var addend = point;
        while (scalar > 0)
        {
            if (!scalar.IsEven)
            {
                result = Add(result, addend);
            }

            addend = Add(addend, addend);
            scalar >>= 1;
        }

        return result;
    }

    /// <summary>y in 255 bits little-endian, with the low bit of x in the top bit.</summary>
    private static byte[] Encode(Point point)
    {
        var zInverse = Inverse(point.Z);
        var x = Mod(point.X * zInverse);
        var y = Mod(point.Y * zInverse);
        var encoded = new byte[PublicKeySize];
        WriteLittleEndian(y, encoded);
        if (!x.IsEven)
        {
            encoded[31] |= 0x80;
        }

        return encoded;
    }

    private static Point CreateBasePoint()
    {
        // RFC 8032 §5.1: B = (x, 4/5) with x positive (even).
        var y = Mod(4 * Inverse(5));
        var x = RecoverX(y);
        return new Point(x, y, BigInteger.One, Mod(x * y));
    }

    private static BigInteger RecoverX(BigInteger y)
    {
        var u = Mod((y * y) - 1);
        var v = Mod((D * y * y) + 1);
        var x = BigInteger.ModPow(Mod(u * Inverse(v)), (P + 3) / 8, P);
        if (Mod((v * x * x) - u) != 0)
        {
            x = Mod(x * BigInteger.ModPow(2, (P - 1) / 4, P));
        }

        return x.IsEven ? x : P - x;
    }

    private static BigInteger Inverse(BigInteger value) => BigInteger.ModPow(Mod(value), P - 2, P);

    private static BigInteger Mod(BigInteger value)
    {
        var result = value % P;
        return result.Sign < 0 ? result + P : result;
    }

    private static void WriteLittleEndian(BigInteger value, Span<byte> destination)
    {
        destination.Clear();
        if (!value.TryWriteBytes(destination, out _, isUnsigned: true, isBigEndian: false))
        {
            throw new InvalidOperationException("An Ed25519 field element does not fit in 32 bytes.");
        }
    }

    private readonly record struct Point(BigInteger X, BigInteger Y, BigInteger Z, BigInteger T);
}
