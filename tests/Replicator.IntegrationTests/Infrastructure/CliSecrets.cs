using System.Data.Common;
using System.Diagnostics;

namespace Replicator.IntegrationTests.Infrastructure;

/// <summary>
/// Starts <c>replicator</c> the way an operator must: no password on its command line, where
/// <c>ps</c> would show it. A <c>--source &lt;connection string&gt;</c> that carries a password is
/// handed over in an environment variable instead (<c>--source-env</c>), as tail and check refuse it.
/// </summary>
public static class CliSecrets
{
    public const string SourceVariable = "REPLICATOR_TEST_SOURCE";

    public static void AddArguments(ProcessStartInfo start, IEnumerable<string> arguments)
    {
        var list = arguments.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == "--source" && i + 1 < list.Count && HasPassword(list[i + 1]))
            {
                start.Environment[SourceVariable] = list[i + 1];
                start.ArgumentList.Add("--source-env");
                start.ArgumentList.Add(SourceVariable);
                i++;
                continue;
            }

            start.ArgumentList.Add(list[i]);
        }
    }

    private static bool HasPassword(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            return builder.ContainsKey("password") || builder.ContainsKey("pwd");
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
