using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// A private CA and a server certificate it signed, made in-process and written as PEM files: the
/// server certificate names only the DNS name "localhost", so VerifyFull passes for Host=localhost
/// and fails for Host=127.0.0.1. A second, unrelated CA is there to be the wrong one.
/// </summary>
public sealed class NetworkTestCertificates : IDisposable
{
    private NetworkTestCertificates(string directory, X509Certificate2 authority, X509Certificate2 server, X509Certificate2 otherAuthority)
    {
        Directory = directory;
        Authority = authority;
        Server = server;
        OtherAuthority = otherAuthority;
    }

    public string Directory { get; }

    public X509Certificate2 Authority { get; }

    /// <summary>The server certificate with its private key.</summary>
    public X509Certificate2 Server { get; }

    public X509Certificate2 OtherAuthority { get; }

    public string CaFile => Path.Combine(Directory, "ca.pem");

    public string OtherCaFile => Path.Combine(Directory, "other-ca.pem");

    public string ServerCertificateFile => Path.Combine(Directory, "server-cert.pem");

    public string ServerKeyFile => Path.Combine(Directory, "server-key.pem");

    public static NetworkTestCertificates Create(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        var authority = CreateAuthority("CN=Replicator network test CA");
        var other = CreateAuthority("CN=Some other CA");

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var signed = request.Create(authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
        var server = signed.CopyWithPrivateKey(serverKey);

        var certificates = new NetworkTestCertificates(directory, authority, server, other);
        File.WriteAllText(certificates.CaFile, authority.ExportCertificatePem());
        File.WriteAllText(certificates.OtherCaFile, other.ExportCertificatePem());
        File.WriteAllText(certificates.ServerCertificateFile, server.ExportCertificatePem());
        File.WriteAllText(certificates.ServerKeyFile, serverKey.ExportRSAPrivateKeyPem());
        return certificates;
    }

    public void Dispose()
    {
        Authority.Dispose();
        Server.Dispose();
        OtherAuthority.Dispose();
    }

    private static X509Certificate2 CreateAuthority(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(60));
    }
}
