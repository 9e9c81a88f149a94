namespace Replicator.Binlog.Tests.Network;

/// <summary>One set of certificates for a test class, removed with its directory afterwards.</summary>
public sealed class NetworkCertificatesFixture : IDisposable
{
    public NetworkCertificatesFixture() =>
        Certificates = NetworkTestCertificates.Create(Path.Combine(Path.GetTempPath(), "replicator-nettest-" + Guid.NewGuid().ToString("N")[..12]));

    public NetworkTestCertificates Certificates { get; }

    public void Dispose()
    {
        Certificates.Dispose();
        Directory.Delete(Certificates.Directory, recursive: true);
    }
}
