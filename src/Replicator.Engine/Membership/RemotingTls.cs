using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Replicator.Engine.Configuration;

namespace Replicator.Engine.Membership;

/// <summary>
/// Akka.Remote over TLS with certificates (DotNetty's <c>enable-ssl</c>, set up in code): this node
/// presents <see cref="RemotingTlsSettings.CertificateFile"/>, mutual authentication is required,
/// and a peer is accepted, on inbound and outbound connections alike, only when its certificate
/// chains to <see cref="RemotingTlsSettings.CaFile"/>. Validation is never suppressed.
/// </summary>
public static class RemotingTls
{
    /// <summary>The HOCON that turns TLS on for the transport; the certificate and the validator come from <see cref="Setup"/>.</summary>
    public static Config EnableSsl { get; } = ConfigurationFactory.ParseString("""
        akka.remote.dot-netty.tcp {
          enable-ssl = true
          ssl.suppress-validation = false
          ssl.require-mutual-authentication = true
        }
        """);

    /// <summary>The transport's TLS setup: loads the certificate and the CA, failing with a <see cref="ConfigurationException"/> that names the file.</summary>
    public static DotNettySslSetup Setup(RemotingTlsSettings settings)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(settings.CertificateFile, settings.CertificatePassword.Length == 0 ? null : settings.CertificatePassword);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ConfigurationException($"replicator.remoting-tls.certificate {settings.CertificateFile}: cannot load it as PKCS#12 with its certificate-password ({e.GetType().Name}: {e.Message}).");
        }

        if (!certificate.HasPrivateKey)
        {
            throw new ConfigurationException($"replicator.remoting-tls.certificate {settings.CertificateFile} holds no private key; export the node's certificate with its key (e.g. openssl pkcs12 -export -inkey node.key -in node.crt).");
        }

        var authorities = LoadAuthorities(settings.CaFile);
        using var probe = Chain(authorities);
        if (!probe.Build(certificate))
        {
            throw new ConfigurationException(
                $"replicator.remoting-tls.certificate {settings.CertificateFile} ({certificate.Subject}) is not signed by the CA in replicator.remoting-tls.ca {settings.CaFile} ({Describe(probe)}): its peers would refuse it.");
        }

        return new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false, Validator(authorities, settings.CaFile));
    }

    /// <summary>Accepts a peer certificate that chains to <paramref name="authorities"/> (nothing else: not the system's roots); logs why it refuses one.</summary>
    public static CertificateValidationCallback Validator(X509Certificate2Collection authorities, string caFile) =>
        (certificate, _, remotePeer, errors, log) =>
        {
            if (certificate is null)
            {
                log?.Warning("Refused a remoting connection with {0}: it presented no certificate ({1}); every node needs one signed by the CA in {2}.", remotePeer, errors, caFile);
                return false;
            }

            using var chain = Chain(authorities);
            if (chain.Build(certificate))
            {
                return true;
            }

            log?.Warning("Refused a remoting connection with {0}: its certificate {1} is not signed by the cluster's CA ({2}; {3}).", remotePeer, certificate.Subject, caFile, Describe(chain));
            return false;
        };

    public static X509Certificate2Collection LoadAuthorities(string caFile)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ConfigurationException($"replicator.remoting-tls.ca {caFile}: cannot read it as PEM certificates ({e.GetType().Name}: {e.Message}).");
        }

        return authorities.Count > 0
            ? authorities
            : throw new ConfigurationException($"replicator.remoting-tls.ca {caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
    }

    private static X509Chain Chain(X509Certificate2Collection authorities)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        return chain;
    }

    private static string Describe(X509Chain chain) =>
        string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("the chain does not end at that CA"));

}
