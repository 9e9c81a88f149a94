namespace Replicator.Host.Admin;

/// <summary>
/// Who may call the admin endpoint; a pure decision over the request's method and headers.
/// <list type="bullet">
/// <item>A mutating call (any method but GET and HEAD: retry, purge) needs <c>Authorization: Bearer &lt;token&gt;</c>.
/// With no token configured nothing can be mutated.</item>
/// <item>Bound off loopback, every call needs the token (the node refuses to start off loopback without one).</item>
/// <item>A mutating call from a web page of another origin is refused even with a token: a browser
/// sends <c>Origin</c> (and <c>Sec-Fetch-Site</c>) on every cross-origin POST.</item>
/// <item>On loopback the Host header must be an IP address or localhost, so a web page cannot reach
/// the endpoint through a name it rebinds to 127.0.0.1 (DNS rebinding) and read /status.</item>
/// </list>
/// </summary>
internal static class AdminAccess
{
    /// <summary>A refusal: the status code and a one-line reason (no secret in it).</summary>
    public sealed record Refusal(int Status, string Reason);

    public static bool IsMutating(string method) => !(HttpMethodIs(method, "GET") || HttpMethodIs(method, "HEAD"));

    /// <summary>Null when the request may proceed, else why not.</summary>
    public static Refusal? Check(
        string method,
        string? host,
        string? origin,
        string? fetchSite,
        string? authorization,
        bool boundToLoopback,
        AdminToken? token)
    {
        var mutating = IsMutating(method);
        if (boundToLoopback && !IsAddressOrLocalhost(host))
        {
            return new Refusal(400, "the Host header must be an IP address or localhost");
        }

        if (mutating || !boundToLoopback)
        {
            if (token is null)
            {
                return new Refusal(401, $"this call needs the admin token: start the node with {AdminToken.EnvironmentVariable} set or with --admin-token-file, and send Authorization: Bearer <token>");
            }

            if (!Presents(authorization, token))
            {
                return new Refusal(401, "this call needs Authorization: Bearer <admin token>");
            }
        }

        if (mutating && !SameOrigin(origin, fetchSite, host))
        {
            return new Refusal(403, "a cross-origin request may not change anything here");
        }

        return null;
    }

    private static bool Presents(string? authorization, AdminToken token)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return token.Matches(authorization[scheme.Length..].Trim());
    }

    /// <summary>
    /// No Origin (curl, scripts, the harness) or this endpoint's own origin; and no
    /// <c>Sec-Fetch-Site</c> other than same-origin or none (a typed-in address).
    /// </summary>
    private static bool SameOrigin(string? origin, string? fetchSite, string? host)
    {
        if (fetchSite is not null && fetchSite is not ("same-origin" or "none"))
        {
            return false;
        }

        if (origin is null)
        {
            return true;
        }

        return host is not null && string.Equals(origin, "http://" + host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The host of a Host header value (with or without a port) is an IP address or localhost.</summary>
    private static bool IsAddressOrLocalhost(string? host) =>
        host is { Length: > 0 }
        && Uri.TryCreate("http://" + host + "/", UriKind.Absolute, out var uri)
        && (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || uri.Host == "localhost")
        && uri.AbsolutePath == "/" && uri.UserInfo.Length == 0;

    private static bool HttpMethodIs(string method, string expected) => string.Equals(method, expected, StringComparison.OrdinalIgnoreCase);
}
