using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// The server side of the MySQL 8 protocol, written for the tests independently of the client:
/// HandshakeV10, the SSL request and TLS, authentication as the server checks it
/// (mysql_native_password, caching_sha2_password with its cache, fast path, full authentication
/// over TLS or RSA-OAEP with key retrieval, mysql_clear_password, and any other plugin name to
/// switch to), a few text queries, COM_REGISTER_SLAVE and the two dump commands, which answer with
/// scripted events. It records what clients sent.
/// </summary>
public sealed class NetworkFakeMySqlServer : IAsyncDisposable
{
    public const string BinlogFile = "binlog.000003";
    public const long BinlogEnd = 157;

    private const uint ServerCapabilities =
        1 | 4 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000 | 0x100000 | 0x200000 | 0x1000000;

    private const uint SslCapability = 0x800;
    private const uint DeprecateEofCapability = 0x1000000;
    private const uint LengthEncodedAuthCapability = 0x200000;

    private static readonly Lazy<RSA> SharedRsaKey = new(() => RSA.Create(2048));

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _sessions = [];
    private readonly ConcurrentDictionary<string, bool> _sha2Cache = new(StringComparer.Ordinal);
    private readonly Task _acceptLoop;
    private int _connectionId = 100;

    public NetworkFakeMySqlServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public int Port { get; }

    public string Version { get; init; } = "8.4.3";

    public string DefaultPlugin { get; init; } = "caching_sha2_password";

    /// <summary>False: the server does not offer CLIENT_DEPRECATE_EOF and ends column lists and rows with EOF packets.</summary>
    public bool OffersDeprecateEof { get; init; } = true;

    public List<(string User, string Password, string Plugin)> Accounts { get; } = [];

    /// <summary>With a certificate the server offers TLS.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>The server's RSA key pair, one for all fake servers (generating one takes a while).</summary>
    public RSA RsaKey => SharedRsaKey.Value;

    public string PublicKeyPem => RsaKey.ExportSubjectPublicKeyInfoPem();

    /// <summary>Accept connections and never say anything.</summary>
    public bool Silent { get; init; }

    /// <summary>The events a dump sends (each a whole event: header, body, checksum).</summary>
    public List<byte[]> DumpEvents { get; } = [];

    /// <summary>An ERR (code, state, message) sent after the events instead of EOF or silence.</summary>
    public (int Code, string State, string Message)? DumpError { get; init; }

    /// <summary>What the logins did: "fast", "full-tls", "full-rsa", "full-rsa-retrieved", "native", "clear", "empty".</summary>
    public ConcurrentQueue<string> Logins { get; } = new();

    public ConcurrentQueue<string> Queries { get; } = new();

    /// <summary>Payloads of COM_REGISTER_SLAVE, COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID, command byte included.</summary>
    public ConcurrentQueue<byte[]> ReplicationCommands { get; } = new();

    /// <summary>Every byte a client sent outside TLS, to check that no password travelled in clear.</summary>
    public ConcurrentQueue<byte[]> PlainBytes { get; } = new();

    public void Cache(string user) => _sha2Cache[user] = true;

    public bool IsCached(string user) => _sha2Cache.ContainsKey(user);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        foreach (var session in _sessions)
        {
            try
            {
                await session.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or TimeoutException or ObjectDisposedException or AuthenticationFailedException)
            {
            }
        }

        _stop.Dispose();
    }

    /// <summary>An event: the 19-byte header (timestamp 0, server_id 1), the body and its CRC32.</summary>
    public static byte[] Event(byte type, uint logPosition, ushort flags, byte[] body)
    {
        var data = new byte[19 + body.Length + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(0), 0);
        data[4] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(5), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(9), (uint)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(13), logPosition);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(17), flags);
        body.CopyTo(data, 19);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - 4), NetworkRawEvents.Crc32(data.AsSpan(0, data.Length - 4)));
        return data;
    }

    /// <summary>The artificial ROTATE a dump starts with.</summary>
    public static byte[] FakeRotate(string file, ulong position)
    {
        var body = new byte[8 + Encoding.ASCII.GetByteCount(file)];
        BinaryPrimitives.WriteUInt64LittleEndian(body, position);
        Encoding.ASCII.GetBytes(file, body.AsSpan(8));
        return Event(4, 0, 0x20, body);
    }

    /// <summary>A FORMAT_DESCRIPTION_EVENT: version 4, server version, timestamp, header length 19, post-header lengths, CRC32 algorithm.</summary>
    public static byte[] FormatDescription(uint logPosition)
    {
        var body = new byte[2 + 50 + 4 + 1 + 41 + 1];
        BinaryPrimitives.WriteUInt16LittleEndian(body, 4);
        Encoding.ASCII.GetBytes("8.4.3", body.AsSpan(2));
        body[56] = 19;
        body[^1] = 1;
        return Event(15, logPosition, 0, body);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _sessions.Add(Task.Run(() => ServeAsync(client)));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var session = new Session(client.GetStream(), this);
        try
        {
            if (Silent)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }

            if (await session.LogInAsync(_stop.Token))
            {
                await session.ServeCommandsAsync(_stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or EndOfStreamException or AuthenticationFailedException)
        {
            // The client went away or the test ended.
        }
    }

    private sealed class AuthenticationFailedException(string message) : Exception(message);

    private sealed class Session(Stream stream, NetworkFakeMySqlServer server)
    {
        private Stream _stream = stream;
        private byte _sequence;
        private uint _clientCapabilities;
        private byte[] _scramble = NewScramble();

        private bool IsTls => _stream is SslStream;

        private bool DeprecateEof => (_clientCapabilities & DeprecateEofCapability) != 0;

        public async Task<bool> LogInAsync(CancellationToken cancellationToken)
        {
            var capabilities = (ServerCapabilities | (server.Certificate is null ? 0 : SslCapability))
                & (server.OffersDeprecateEof ? uint.MaxValue : ~DeprecateEofCapability);
            var handshake = new List<byte> { 10 };
            handshake.AddRange(Encoding.ASCII.GetBytes(server.Version));
            handshake.Add(0);
            handshake.AddRange(BitConverter.GetBytes(Interlocked.Increment(ref server._connectionId)));
            handshake.AddRange(_scramble[..8]);
            handshake.Add(0);
            handshake.AddRange(BitConverter.GetBytes((ushort)capabilities));
            handshake.Add(255);
            handshake.AddRange(BitConverter.GetBytes((ushort)2));
            handshake.AddRange(BitConverter.GetBytes((ushort)(capabilities >> 16)));
            handshake.Add(21);
            handshake.AddRange(new byte[10]);
            handshake.AddRange(_scramble[8..]);
            handshake.Add(0);
            handshake.AddRange(Encoding.ASCII.GetBytes(server.DefaultPlugin));
            handshake.Add(0);
            await WriteAsync([.. handshake], cancellationToken);

            var response = await ReadAsync(cancellationToken);
            _clientCapabilities = BinaryPrimitives.ReadUInt32LittleEndian(response);
            if ((_clientCapabilities & SslCapability) != 0 && response.Length == 32)
            {
                var tls = new SslStream(_stream);
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = server.Certificate }, cancellationToken);
                _stream = tls;
                response = await ReadAsync(cancellationToken);
                _clientCapabilities = BinaryPrimitives.ReadUInt32LittleEndian(response);
            }

            var offset = 4 + 4 + 1 + 23;
            var userEnd = Array.IndexOf(response, (byte)0, offset);
            var user = Encoding.UTF8.GetString(response, offset, userEnd - offset);
            offset = userEnd + 1;
            // A length-encoded length under CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, else one byte.
            int authLength = response[offset++];
            if ((_clientCapabilities & LengthEncodedAuthCapability) != 0 && authLength == 0xFC)
            {
                authLength = BinaryPrimitives.ReadUInt16LittleEndian(response.AsSpan(offset));
                offset += 2;
            }

            var authResponse = response[offset..(offset + authLength)];
            offset += authLength;
            var pluginEnd = Array.IndexOf(response, (byte)0, offset);
            var clientPlugin = Encoding.ASCII.GetString(response, offset, pluginEnd - offset);

            var account = server.Accounts.FirstOrDefault(a => a.User == user);
            if (account.User is null)
            {
                await DenyAsync(user, cancellationToken);
                return false;
            }

            if (clientPlugin != account.Plugin)
            {
                _scramble = NewScramble();
                var request = new List<byte> { 0xFE };
                request.AddRange(Encoding.ASCII.GetBytes(account.Plugin));
                request.Add(0);
                request.AddRange(_scramble);
                request.Add(0);
                await WriteAsync([.. request], cancellationToken);
                authResponse = await ReadAsync(cancellationToken);
            }

            var accepted = account.Plugin switch
            {
                "mysql_native_password" => CheckNative(account.Password, authResponse),
                "caching_sha2_password" => await CheckSha2Async(account.User, account.Password, authResponse, cancellationToken),
                "mysql_clear_password" => Remember("clear", Encoding.UTF8.GetString(authResponse).TrimEnd('\0') == account.Password),
                _ => false,
            };
            if (!accepted)
            {
                await DenyAsync(user, cancellationToken);
                return false;
            }

            await WriteOkAsync(cancellationToken);
            return true;
        }

        public async Task ServeCommandsAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                _sequence = 0;
                var command = await ReadAsync(cancellationToken);
                switch (command[0])
                {
                    case 0x01:
                        return;
                    case 0x03:
                        await AnswerQueryAsync(Encoding.UTF8.GetString(command, 1, command.Length - 1), cancellationToken);
                        break;
                    case 0x15:
                        server.ReplicationCommands.Enqueue(command);
                        await WriteOkAsync(cancellationToken);
                        break;
                    case 0x12:
                    case 0x1E:
                        server.ReplicationCommands.Enqueue(command);
                        await DumpAsync(command, cancellationToken);
                        return;
                    default:
                        await WriteErrorAsync(1047, "08S01", "Unknown command", cancellationToken);
                        break;
                }
            }
        }

        private async Task DumpAsync(byte[] command, CancellationToken cancellationToken)
        {
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(command.AsSpan(command[0] == 0x12 ? 5 : 1));
            foreach (var binlogEvent in server.DumpEvents)
            {
                await WriteAsync([0x00, .. binlogEvent], cancellationToken);
            }

            if (server.DumpError is { } error)
            {
                await WriteErrorAsync(error.Code, error.State, error.Message, cancellationToken);
            }
            else if ((flags & 1) != 0)
            {
                await WriteAsync(DeprecateEof ? [0xFE, 0, 0, 2, 0, 0, 0] : [0xFE, 0, 0, 2, 0], cancellationToken);
            }
            else
            {
                // A blocking dump with nothing more to send, and no heartbeats: the client has to time out.
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }

        private async Task AnswerQueryAsync(string sql, CancellationToken cancellationToken)
        {
            server.Queries.Enqueue(sql);
            switch (sql)
            {
                case "SELECT @@global.binlog_checksum":
                    await WriteResultAsync(["@@global.binlog_checksum"], [["CRC32"]], cancellationToken);
                    break;
                case "SHOW BINARY LOG STATUS":
                    await WriteResultAsync(["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"], [[BinlogFile, BinlogEnd.ToString(System.Globalization.CultureInfo.InvariantCulture), "", "", ""]], cancellationToken);
                    break;
                case "SHOW BINARY LOGS":
                    await WriteResultAsync(["Log_name", "File_size", "Encrypted"], [["binlog.000002", "1000", "No"], [BinlogFile, "157", "No"]], cancellationToken);
                    break;
                case "SELECT 1":
                    await WriteResultAsync(["1"], [["1"]], cancellationToken);
                    break;
                case var set when set.StartsWith("SET ", StringComparison.Ordinal):
                    await WriteOkAsync(cancellationToken);
                    break;
                default:
                    // MySQL 8.4 no longer knows SHOW MASTER STATUS.
                    await WriteErrorAsync(1064, "42000", "You have an error in your SQL syntax", cancellationToken);
                    break;
            }
        }

        private async Task WriteResultAsync(string[] columns, string?[][] rows, CancellationToken cancellationToken)
        {
            await WriteAsync([(byte)columns.Length], cancellationToken);
            foreach (var column in columns)
            {
                var definition = new List<byte>();
                foreach (var part in new[] { "def", "", "", "", column, column })
                {
                    definition.Add((byte)part.Length);
                    definition.AddRange(Encoding.UTF8.GetBytes(part));
                }

                definition.AddRange([0x0C, 45, 0, 0, 1, 0, 0, 253, 0, 0, 0, 0, 0]);
                await WriteAsync([.. definition], cancellationToken);
            }

            if (!DeprecateEof)
            {
                await WriteAsync([0xFE, 0, 0, 2, 0], cancellationToken);
            }

            foreach (var row in rows)
            {
                var bytes = new List<byte>();
                foreach (var value in row)
                {
                    if (value is null)
                    {
                        bytes.Add(0xFB);
                    }
                    else
                    {
                        var encoded = Encoding.UTF8.GetBytes(value);
                        bytes.Add((byte)encoded.Length);
                        bytes.AddRange(encoded);
                    }
                }

                await WriteAsync([.. bytes], cancellationToken);
            }

            await WriteAsync(DeprecateEof ? [0xFE, 0, 0, 2, 0, 0, 0] : [0xFE, 0, 0, 2, 0], cancellationToken);
        }

        private bool CheckNative(string password, byte[] response)
        {
            // The server keeps SHA1(SHA1(password)) and recovers SHA1(password) from the answer.
            var stored = SHA1.HashData(SHA1.HashData(Encoding.UTF8.GetBytes(password)));
            var mask = SHA1.HashData([.. _scramble, .. stored]);
            if (response.Length != mask.Length)
            {
                return false;
            }

            var candidate = response.Zip(mask, (a, b) => (byte)(a ^ b)).ToArray();
            return Remember("native", SHA1.HashData(candidate).AsSpan().SequenceEqual(stored));
        }

        private async Task<bool> CheckSha2Async(string user, string password, byte[] response, CancellationToken cancellationToken)
        {
            if (password.Length == 0)
            {
                return Remember("empty", response.Length == 0);
            }

            if (server.IsCached(user))
            {
                // The cache keeps SHA256(SHA256(password)).
                var stored = SHA256.HashData(SHA256.HashData(Encoding.UTF8.GetBytes(password)));
                var mask = SHA256.HashData([.. stored, .. _scramble]);
                var candidate = response.Length == 32 ? response.Zip(mask, (a, b) => (byte)(a ^ b)).ToArray() : [];
                if (candidate.Length == 0 || !SHA256.HashData(candidate).AsSpan().SequenceEqual(stored))
                {
                    return false;
                }

                await WriteAsync([0x01, 0x03], cancellationToken);
                return Remember("fast", true);
            }

            await WriteAsync([0x01, 0x04], cancellationToken);
            var answer = await ReadAsync(cancellationToken);
            string kind;
            string received;
            if (IsTls)
            {
                kind = "full-tls";
                received = Encoding.UTF8.GetString(answer).TrimEnd('\0');
            }
            else
            {
                kind = "full-rsa";
                if (answer is [0x02])
                {
                    kind = "full-rsa-retrieved";
                    await WriteAsync([0x01, .. Encoding.ASCII.GetBytes(server.PublicKeyPem)], cancellationToken);
                    answer = await ReadAsync(cancellationToken);
                }

                var plain = server.RsaKey.Decrypt(answer, RSAEncryptionPadding.OaepSHA1);
                for (var i = 0; i < plain.Length; i++)
                {
                    plain[i] ^= _scramble[i % _scramble.Length];
                }

                received = Encoding.UTF8.GetString(plain).TrimEnd('\0');
            }

            if (received != password)
            {
                return false;
            }

            server.Cache(user);
            return Remember(kind, true);
        }

        private bool Remember(string kind, bool accepted)
        {
            if (accepted)
            {
                server.Logins.Enqueue(kind);
            }

            return accepted;
        }

        private Task DenyAsync(string user, CancellationToken cancellationToken) =>
            WriteErrorAsync(1045, "28000", $"Access denied for user '{user}'@'localhost' (using password: YES)", cancellationToken);

        private Task WriteOkAsync(CancellationToken cancellationToken) => WriteAsync([0x00, 0, 0, 2, 0, 0, 0], cancellationToken);

        private Task WriteErrorAsync(int code, string state, string message, CancellationToken cancellationToken) =>
            WriteAsync([0xFF, .. BitConverter.GetBytes((ushort)code), (byte)'#', .. Encoding.ASCII.GetBytes(state), .. Encoding.UTF8.GetBytes(message)], cancellationToken);

        private async Task<byte[]> ReadAsync(CancellationToken cancellationToken)
        {
            var payload = new List<byte>();
            while (true)
            {
                var header = new byte[4];
                await _stream.ReadExactlyAsync(header, cancellationToken);
                var length = header[0] | (header[1] << 8) | (header[2] << 16);
                _sequence = (byte)(header[3] + 1);
                var chunk = new byte[length];
                await _stream.ReadExactlyAsync(chunk, cancellationToken);
                if (!IsTls)
                {
                    server.PlainBytes.Enqueue([.. header, .. chunk]);
                }

                payload.AddRange(chunk);
                if (length < 0xFFFFFF)
                {
                    return [.. payload];
                }
            }
        }

        private async Task WriteAsync(byte[] payload, CancellationToken cancellationToken)
        {
            var offset = 0;
            while (true)
            {
                var length = Math.Min(payload.Length - offset, 0xFFFFFF);
                var packet = new byte[4 + length];
                packet[0] = (byte)length;
                packet[1] = (byte)(length >> 8);
                packet[2] = (byte)(length >> 16);
                packet[3] = _sequence++;
                payload.AsSpan(offset, length).CopyTo(packet.AsSpan(4));
                await _stream.WriteAsync(packet, cancellationToken);
                offset += length;
                if (length < 0xFFFFFF)
                {
                    return;
                }
            }
        }

        private static byte[] NewScramble()
        {
            // Like the servers: printable, never NUL.
            var bytes = RandomNumberGenerator.GetBytes(20);
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(33 + (bytes[i] % 94));
            }

            return bytes;
        }
    }
}
