using System.CommandLine;
using System.Data.Common;

namespace Replicator.Host.Commands;

/// <summary>
/// How <c>tail</c> and <c>check</c> get the source's connection string, declared once. A password
/// never comes from the command line, where <c>ps</c> shows it to every user of the machine:
/// <c>--source</c> takes a connection string without one, and the password comes from
/// <see cref="PasswordVariable"/> or <c>--source-password-file</c>; or <c>--source-env NAME</c>
/// names an environment variable that holds the whole connection string, password included.
/// </summary>
internal sealed class SourceOptions
{
    public const string PasswordVariable = "REPLICATOR_SOURCE_PASSWORD";

    private SourceOptions(string what)
    {
        Source = new Option<string?>("--source")
        {
            Description = $"MySqlConnector connection string of {what}, without its password (Server=host;Port=3306;User ID=cdc). "
                + $"The password comes from {PasswordVariable} or --source-password-file.",
        };
        SourceEnv = new Option<string?>("--source-env")
        {
            Description = "Name of an environment variable holding the whole connection string, password included (instead of --source).",
        };
        PasswordFile = new Option<FileInfo?>("--source-password-file")
        {
            Description = $"File holding the source password (instead of {PasswordVariable}); a trailing line break is ignored.",
        };
        Insecure = new Option<bool>("--insecure")
        {
            Description = "Allow a connection to another host without a verified certificate (MySQL SslMode other than VerifyCA/VerifyFull, Redis without ssl=true), as replicator.insecure = on. Only for development.",
        };
    }

    public Option<string?> Source { get; }

    public Option<string?> SourceEnv { get; }

    public Option<FileInfo?> PasswordFile { get; }

    public Option<bool> Insecure { get; }

    public IEnumerable<Option> All => [Source, SourceEnv, PasswordFile, Insecure];

    public static SourceOptions Create(string what) => new(what);

    /// <summary>
    /// The connection string, with its password; null when neither --source nor --source-env was given.
    /// Throws an <see cref="ArgumentException"/> whose message names the option and the fix, never a value.
    /// </summary>
    public string? Resolve(ParseResult result)
    {
        var connectionString = Resolve(result.GetValue(Source), result.GetValue(SourceEnv), result.GetValue(PasswordFile), Environment.GetEnvironmentVariable);
        if (connectionString is not null
            && Engine.Configuration.TransportSecurity.CheckMySql(connectionString, result.GetValue(SourceEnv) is { } name ? $"--source-env {name}" : "--source", result.GetValue(Insecure)) is { } unsafeTransport)
        {
            throw new ArgumentException(unsafeTransport.Replace("replicator.insecure = on", "--insecure", StringComparison.Ordinal));
        }

        return connectionString;
    }

    public static string? Resolve(string? source, string? sourceEnv, FileInfo? passwordFile, Func<string, string?> environment)
    {
        if (source is not null && sourceEnv is not null)
        {
            throw new ArgumentException("give --source or --source-env, not both.");
        }

        string connectionString;
        if (sourceEnv is not null)
        {
            connectionString = environment(sourceEnv) is { Length: > 0 } value
                ? value
                : throw new ArgumentException($"--source-env {sourceEnv}: the environment variable {sourceEnv} is not set.");
        }
        else if (source is not null)
        {
            if (PasswordOf(source, "--source") is not null)
            {
                throw new ArgumentException(
                    $"--source carries a password, which every user of this machine can read in ps. Give the connection string without it and the password in {PasswordVariable} or --source-password-file, "
                    + "or put the whole connection string in an environment variable and name it with --source-env.");
            }

            connectionString = source;
        }
        else
        {
            return null;
        }

        var password = Secrets.Read(passwordFile, "--source-password-file", PasswordVariable, environment);
        if (password is null)
        {
            return connectionString;
        }

        var builder = Parse(connectionString, sourceEnv is null ? "--source" : $"--source-env {sourceEnv}");
        builder.Remove("pwd");
        builder["Password"] = password;
        return builder.ConnectionString;
    }

    private static string? PasswordOf(string connectionString, string option)
    {
        var builder = Parse(connectionString, option);
        return builder.TryGetValue("password", out var password) || builder.TryGetValue("pwd", out password) ? password as string : null;
    }

    private static DbConnectionStringBuilder Parse(string connectionString, string option)
    {
        try
        {
            return new DbConnectionStringBuilder { ConnectionString = connectionString };
        }
        catch (ArgumentException)
        {
            throw new ArgumentException($"{option} is not a valid connection string (key=value pairs separated by ';').");
        }
    }
}
