using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;

namespace Replicator.Engine.Configuration;

/// <summary>
/// Loads HOCON files for a node. Akka's parser accepts unbalanced braces without a word and does
/// not resolve environment variables, so this loader checks the structure first (naming the file
/// and line), resolves <c>include "file"</c> relative to the including file, and replaces
/// environment substitutions before Akka parses the text:
/// <c>${VAR}</c> must be set; <c>key = ${?VAR}</c> leaves <c>key</c> as it was when VAR is unset.
/// Substituted values are inserted as quoted strings, so a secret is never read as HOCON syntax.
/// Names of environment variables are upper case (<c>[A-Z_][A-Z0-9_]*</c>); other substitutions are
/// config paths, left to Akka.
/// </summary>
public static partial class HoconLoader
{
    /// <summary>
    /// Loads <paramref name="path"/> and its includes, with <c>replicator.config-directory</c> set to
    /// the file's directory, which relative paths such as <c>replicator.data-dir</c> resolve against.
    /// </summary>
    public static Config LoadFile(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return ConfigurationFactory.ParseString($"replicator.config-directory = {Quote(directory)}\n" + Preprocess(path, new HashSet<string>()));
    }

    public static Config LoadString(string text, string origin = "<string>") =>
        ConfigurationFactory.ParseString(PreprocessText(text, origin, baseDirectory: Directory.GetCurrentDirectory(), new HashSet<string>()));

    private static string Preprocess(string path, HashSet<string> seen)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new ConfigurationException($"Config file {path} does not exist.");
        }

        if (!seen.Add(full))
        {
            throw new ConfigurationException($"Config file {path} includes itself.");
        }

        return PreprocessText(File.ReadAllText(full), path, Path.GetDirectoryName(full)!, seen);
    }

    private static string PreprocessText(string text, string origin, string baseDirectory, HashSet<string> seen)
    {
        CheckStructure(text, origin);
        var output = new StringBuilder(text.Length);
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            var include = IncludeLine().Match(line);
            if (include.Success)
            {
                var target = include.Groups["file"].Value;
                var resolved = Path.IsPathRooted(target) ? target : Path.Combine(baseDirectory, target);
                output.Append(Preprocess(resolved, seen)).Append('\n');
                continue;
            }

            var optional = OptionalAssignment().Match(line);
            if (optional.Success && Environment.GetEnvironmentVariable(optional.Groups["var"].Value) is null)
            {
                output.Append('\n');
                continue;
            }

            var replaced = EnvSubstitution().Replace(line, m =>
            {
                var name = m.Groups["var"].Value;
                var value = Environment.GetEnvironmentVariable(name);
                if (value is null)
                {
                    if (m.Groups["opt"].Success)
                    {
                        return "\"\"";
                    }

                    throw new ConfigurationException($"{origin}:{lineNumber}: environment variable {name} is not set (used as ${{{name}}}). Set it, or write ${{?{name}}} to make it optional.");
                }

                return Quote(value);
            });
            output.Append(replaced).Append('\n');
        }

        return output.ToString();
    }

    /// <summary>Fails on unbalanced braces or brackets and unterminated strings, naming the line.</summary>
    private static void CheckStructure(string text, string origin)
    {
        var stack = new Stack<(char Open, int Line)>();
        var line = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                continue;
            }

            if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }

                line++;
                continue;
            }

            if (c == '"')
            {
                if (i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"')
                {
                    var end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        throw new ConfigurationException($"{origin}:{line}: a \"\"\" string is never closed.");
                    }

                    line += text.AsSpan(i, end - i).Count('\n');
                    i = end + 2;
                    continue;
                }

                var j = i + 1;
                while (j < text.Length && text[j] != '"' && text[j] != '\n')
                {
                    j += text[j] == '\\' ? 2 : 1;
                }

                if (j >= text.Length || text[j] != '"')
                {
                    throw new ConfigurationException($"{origin}:{line}: a quoted string is not closed on its line.");
                }

                i = j;
                continue;
            }

            if (c is '{' or '[')
            {
                stack.Push((c, line));
            }
            else if (c is '}' or ']')
            {
                var expected = c == '}' ? '{' : '[';
                if (stack.Count == 0)
                {
                    throw new ConfigurationException($"{origin}:{line}: '{c}' closes nothing; a '{expected}' is missing before it.");
                }

                var (open, openLine) = stack.Pop();
                if (open != expected)
                {
                    throw new ConfigurationException($"{origin}:{line}: '{c}' does not match the '{open}' opened on line {openLine}.");
                }
            }
        }

        if (stack.Count > 0)
        {
            var (open, openLine) = stack.Peek();
            throw new ConfigurationException($"{origin}:{openLine}: '{open}' is never closed.");
        }
    }

    private static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default: sb.Append(c); break;
            }
        }

        return sb.Append('"').ToString();
    }

    [GeneratedRegex(@"^\s*include\s+(?:file\()?""(?<file>[^""]+)""\)?\s*$")]
    private static partial Regex IncludeLine();

    [GeneratedRegex(@"^\s*[\w.\-""]+\s*[=:]\s*\$\{\?(?<var>[A-Z_][A-Z0-9_]*)\}\s*(?:#.*)?$")]
    private static partial Regex OptionalAssignment();

    [GeneratedRegex(@"\$\{(?<opt>\?)?(?<var>[A-Z_][A-Z0-9_]*)\}")]
    private static partial Regex EnvSubstitution();
}
