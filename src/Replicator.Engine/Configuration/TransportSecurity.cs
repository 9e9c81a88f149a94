using System.Net;
using MySqlConnector;
using StackExchange.Redis;

namespace Replicator.Engine.Configuration;

/// <summary>
/// What a connection to a server off this machine must use, unless <c>replicator.insecure = on</c>:
/// MySQL and MariaDB TLS whose certificate is verified (SslMode=VerifyCA or VerifyFull; Preferred
/// falls back to plain TCP when a man in the middle hides the server's TLS, and Required accepts any
/// certificate, so a password sent over it is not safe); Redis over TLS (<c>ssl=true</c>, whose
/// certificate StackExchange.Redis verifies). Loopback addresses, localhost and Unix sockets are
/// this machine. The checks name the setting and the fix, never a value.
/// </summary>
public static class TransportSecurity
{
    /// <summary>Null when <paramref name="connectionString"/> (MySqlConnector) is acceptable, else what is wrong and the fix.</summary>
    public static string? CheckMySql(string connectionString, string setting, bool insecure)
    {
        if (insecure)
        {
            return null;
        }

        MySqlConnectionStringBuilder builder;
        try
        {
            builder = new MySqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return null; // The reader of the setting reports a malformed string.
        }

        var remote = builder.Server.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(h => !IsLocal(h)).ToList();
        if (builder.ConnectionProtocol != MySqlConnectionProtocol.Sockets || remote.Count == 0
            || builder.SslMode is MySqlSslMode.VerifyCA or MySqlSslMode.VerifyFull)
        {
            return null;
        }

        return $"{setting} connects to {string.Join(", ", remote)} with SslMode={builder.SslMode}, which does not verify the server's certificate "
            + "(None and Preferred may run in plain TCP, Required accepts anyone's certificate, and a password can be read on the way). "
            + "Use SslMode=VerifyCA or VerifyFull, with SslCa=<the CA's PEM file> unless the system trusts the server's CA; or set replicator.insecure = on for development.";
    }

    /// <summary>Null when <paramref name="configuration"/> (StackExchange.Redis) is acceptable, else what is wrong and the fix.</summary>
    public static string? CheckRedis(string configuration, string setting, bool insecure)
    {
        if (insecure)
        {
            return null;
        }

        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException)
        {
            return null;
        }

        var remote = options.EndPoints.Select(Host).Where(h => !IsLocal(h)).ToList();
        if (remote.Count == 0 || options.Ssl)
        {
            return null;
        }

        return $"{setting} connects to {string.Join(", ", remote)} without TLS, so its password and every row travel in clear. "
            + "Add ssl=true (the server's certificate is then verified against the system's CAs), or set replicator.insecure = on for development.";
    }

    /// <summary>This machine: a loopback address, localhost, or a Unix socket path.</summary>
    public static bool IsLocal(string host) =>
        host.StartsWith('/')
        || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static string Host(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => dns.Host,
        IPEndPoint ip => ip.Address.ToString(),
        _ => endpoint.ToString() ?? "",
    };
}
