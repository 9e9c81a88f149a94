using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Replicator.Binlog.Protocol;

namespace Replicator.Binlog.Network;

/// <summary>
/// TLS after the SSL request, with <see cref="BinlogSslMode"/>'s meanings: Preferred and Required
/// encrypt without checking the certificate; VerifyCA checks that it chains to
/// <see cref="BinlogClientOptions.SslCa"/> (or to the system's trusted roots when no CA file is
/// given); VerifyFull also checks that it names <see cref="BinlogClientOptions.Host"/>.
/// </summary>
public sealed partial class BinlogConnection
{
    private static async Task UpgradeToTlsAsync(PacketChannel channel, BinlogClientOptions options, CancellationToken cancellationToken)
    {
        var verdict = new CertificateVerdict();
        var tls = new SslClientAuthenticationOptions
        {
            TargetHost = options.Host,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, _, chain, errors) =>
            {
                verdict.Errors = errors;
                verdict.ChainStatus = chain?.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).ToArray() ?? [];
                return options.SslMode switch
                {
                    BinlogSslMode.VerifyCA => (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None,
                    BinlogSslMode.VerifyFull => errors == SslPolicyErrors.None,
                    _ => true,
                };
            },
        };

        if (options.SslMode is BinlogSslMode.VerifyCA or BinlogSslMode.VerifyFull && options.SslCa is { } caFile)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(LoadCertificateAuthorities(caFile));
            tls.CertificateChainPolicy = policy;
        }

        try
        {
            await channel.UpgradeToTlsAsync(tls, cancellationToken).ConfigureAwait(false);
        }
        catch (AuthenticationException e)
        {
            throw new BinlogConfigurationException(DescribeTlsFailure(options, verdict, e), e);
        }
    }

    private static X509Certificate2Collection LoadCertificateAuthorities(string caFile)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new BinlogConfigurationException($"cannot read SslCa '{caFile}': {e.Message}", e);
        }

        if (authorities.Count == 0)
        {
            throw new BinlogConfigurationException($"SslCa '{caFile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }

        return authorities;
    }

    private static string DescribeTlsFailure(BinlogClientOptions options, CertificateVerdict verdict, AuthenticationException e)
    {
        var prefix = $"TLS with the source {options.Endpoint} failed (SslMode={options.SslMode})";
        if (verdict.Errors is not { } errors)
        {
            return $"{prefix}: {e.Message}; check that the server's TLS configuration and this client share a protocol version and cipher";
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return $"{prefix}: the server sent no certificate";
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var status = verdict.ChainStatus.Length > 0 ? $" ({string.Join("; ", verdict.ChainStatus)})" : "";
            var trust = options.SslCa is null ? "the system's trusted CAs" : $"the CA in SslCa '{options.SslCa}'";
            return $"{prefix}: the server certificate is not signed by {trust}{status}; point SslCa at the CA that issued the server certificate";
        }

        return $"{prefix}: the server certificate does not name '{options.Host}'; connect by a name or address the certificate lists (subject alternative names), or use SslMode=VerifyCA";
    }

    private sealed class CertificateVerdict
    {
        public SslPolicyErrors? Errors { get; set; }

        public string[] ChainStatus { get; set; } = [];
    }
}
