using System.Text;

namespace Replicator.Binlog.Network;

/// <summary>
/// Splits a connection string into key/value pairs the way ADO.NET does: pairs separated by ';',
/// key and value by the first '=', both trimmed; a value may be quoted with ' or " (a doubled quote
/// stands for itself) to hold ';', '=' or spaces. Keys are returned as written. Errors name a
/// position, never a value.
/// </summary>
internal static class ConnectionStringParser
{
    public static IReadOnlyList<KeyValuePair<string, string>> Parse(string connectionString)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        var position = 0;
        while (position < connectionString.Length)
        {
            var equals = connectionString.IndexOf('=', position);
            var semicolon = connectionString.IndexOf(';', position);
            if (semicolon >= 0 && (equals < 0 || semicolon < equals))
            {
                if (connectionString.AsSpan(position, semicolon - position).Trim().Length > 0)
                {
                    throw Malformed(position);
                }

                position = semicolon + 1;
                continue;
            }

            if (equals < 0)
            {
                if (connectionString.AsSpan(position).Trim().Length > 0)
                {
                    throw Malformed(position);
                }

                break;
            }

            var key = connectionString[position..equals].Trim();
            if (key.Length == 0)
            {
                throw Malformed(position);
            }

            position = equals + 1;
            while (position < connectionString.Length && char.IsWhiteSpace(connectionString[position]))
            {
                position++;
            }

            string value;
            if (position < connectionString.Length && connectionString[position] is '\'' or '"')
            {
                value = ReadQuoted(connectionString, ref position);
                while (position < connectionString.Length && char.IsWhiteSpace(connectionString[position]))
                {
                    position++;
                }

                if (position < connectionString.Length && connectionString[position] != ';')
                {
                    throw Malformed(position);
                }

                position++;
            }
            else
            {
                var end = connectionString.IndexOf(';', position);
                end = end < 0 ? connectionString.Length : end;
                value = connectionString[position..end].Trim();
                position = end + 1;
            }

            pairs.Add(new KeyValuePair<string, string>(key, value));
        }

        return pairs;
    }

    private static string ReadQuoted(string text, ref int position)
    {
        var quote = text[position++];
        var value = new StringBuilder();
        while (true)
        {
            if (position >= text.Length)
            {
                throw Malformed(text.Length);
            }

            var c = text[position++];
            if (c != quote)
            {
                value.Append(c);
            }
            else if (position < text.Length && text[position] == quote)
            {
                value.Append(quote);
                position++;
            }
            else
            {
                return value.ToString();
            }
        }
    }

    private static ArgumentException Malformed(int position) => new(
        $"The connection string is malformed near character {position}: expected key=value pairs separated by ';', with values that hold ';' or quotes enclosed in quotes.",
        "connectionString");
}
