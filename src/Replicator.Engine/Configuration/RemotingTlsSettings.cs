namespace Replicator.Engine.Configuration;

/// <summary>
/// TLS between cluster nodes (replicator.remoting-tls): every node presents its certificate and
/// accepts a peer only when the peer's certificate chains to <see cref="CaFile"/>.
/// </summary>
/// <param name="Enabled">Whether remoting runs over TLS.</param>
/// <param name="CertificateFile">PKCS#12 (.pfx/.p12) file holding this node's certificate and private key.</param>
/// <param name="CertificatePassword">The PKCS#12 file's password (from the environment, never in a file).</param>
/// <param name="CaFile">PEM file of the CA (or CAs) that sign the cluster's node certificates.</param>
public sealed record RemotingTlsSettings(bool Enabled, string CertificateFile, string CertificatePassword, string CaFile)
{
    public static RemotingTlsSettings Off { get; } = new(false, "", "", "");

    public override string ToString() => Enabled ? $"TLS (certificate {CertificateFile}, CA {CaFile})" : "plain TCP";

    internal static RemotingTlsSettings Read(ConfigReader reader, string configDirectory)
    {
        reader.RequireOnly("enabled", "certificate", "certificate-password", "ca");
        if (!reader.Bool("enabled"))
        {
            return Off;
        }

        var certificate = reader.String("certificate", required: true);
        var ca = reader.String("ca", required: true);
        string Resolve(string path) =>
            Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(configDirectory.Length > 0 ? configDirectory : Directory.GetCurrentDirectory(), path));
        return new RemotingTlsSettings(true, Resolve(certificate), reader.String("certificate-password"), Resolve(ca));
    }
}
