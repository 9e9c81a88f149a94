namespace Replicator.Host.Commands;

/// <summary>Reads a secret from a file or an environment variable: the command line is never the place for one.</summary>
internal static class Secrets
{
    /// <summary>The content of <paramref name="file"/> (without a trailing line break) when given, else the variable's value, else null.</summary>
    public static string? Read(FileInfo? file, string option, string variable, Func<string, string?> environment)
    {
        if (file is not null)
        {
            try
            {
                return File.ReadAllText(file.FullName).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException($"{option} {file}: cannot read it ({e.GetType().Name}).");
            }
        }

        return environment(variable) is { Length: > 0 } value ? value : null;
    }
}
