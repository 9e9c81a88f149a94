using System.Security.Cryptography;
using System.Text;

namespace Replicator.Host.Admin;

/// <summary>
/// The admin endpoint's bearer token. It comes from a file (<c>--admin-token-file</c>) or the
/// <see cref="EnvironmentVariable"/> environment variable, never from the command line, where
/// <c>ps</c> would show it. It is compared in constant time, over SHA-256 digests so that not even
/// its length leaks through timing.
/// </summary>
internal sealed class AdminToken
{
    public const string EnvironmentVariable = "REPLICATOR_ADMIN_TOKEN";
    public const int MinimumLength = 16;

    private readonly byte[] _digest;

    private AdminToken(string token) => _digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>
    /// The token from <paramref name="file"/> when given (its content, without the trailing line
    /// break), else from the environment variable, else null. Throws an <see cref="AdminEndpointException"/>
    /// for a missing or unreadable file and for a token shorter than <see cref="MinimumLength"/>.
    /// </summary>
    public static AdminToken? Resolve(string? file, Func<string, string?> environment)
    {
        string token;
        string origin;
        if (file is not null)
        {
            try
            {
                token = File.ReadAllText(file).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new AdminEndpointException($"--admin-token-file {file}: cannot read it ({e.GetType().Name}).");
            }

            origin = $"--admin-token-file {file}";
        }
        else if (environment(EnvironmentVariable) is { Length: > 0 } value)
        {
            token = value;
            origin = EnvironmentVariable;
        }
        else
        {
            return null;
        }

        if (token.Length < MinimumLength || token.Any(char.IsWhiteSpace))
        {
            throw new AdminEndpointException($"{origin}: the admin token must be at least {MinimumLength} characters without spaces (e.g. openssl rand -hex 32).");
        }

        return new AdminToken(token);
    }

    /// <summary>For tests and callers that hold the token itself.</summary>
    public static AdminToken Of(string token) => new(token);

    /// <summary>Whether <paramref name="presented"/> is the token; constant time.</summary>
    public bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _digest);
}
