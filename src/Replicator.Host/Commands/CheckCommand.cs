using System.CommandLine;
using System.Text.Json;
using Akka.Configuration;
using MySqlConnector;
using Replicator.Engine.Jobs;
using StackExchange.Redis;

namespace Replicator.Host.Commands;

/// <summary>
/// <c>replicator check</c>: compares source tables with a redis-cache sink row by row, through the
/// checker the job type registers (<see cref="JobFactory.CreateCheckerAsync"/>): the options become
/// the job config a definition would hold. Exit code 0 when every table matches, 3 when one
/// differs, 1 on an error.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var source = SourceOptions.Create("the source (a user with SELECT on the tables)");
        var redis = RedisOptions.Create();
        var tables = new Option<string>("--tables") { Description = "schema.table[,schema.table…] to compare; schema.* for every table of a schema.", Required = true };
        var prefix = new Option<string>("--key-prefix") { Description = "The redis-cache job's key-prefix.", DefaultValueFactory = _ => "" };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the summary line." };
        var command = new Command("check", "Compare source tables with a redis-cache sink, row by row.") { tables, prefix, quiet };
        foreach (var option in source.All.Concat(redis.All))
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) =>
        {
            string connectionString;
            ConfigurationOptions options;
            try
            {
                connectionString = source.Resolve(result) ?? throw new ArgumentException("check needs --source \"<connection string>\" or --source-env NAME.");
                options = redis.Resolve(result, result.GetValue(source.Insecure));
            }
            catch (ArgumentException e)
            {
                return Task.FromResult(Errors.Report(e.Message));
            }

            return CheckAsync(connectionString, options, result.GetValue(tables)!, result.GetValue(prefix)!, result.GetValue(quiet), cancellationToken);
        });
        return command;
    }

    private const string JobType = "redis-cache";

    private static async Task<int> CheckAsync(string source, ConfigurationOptions options, string tables, string prefix, bool quiet, CancellationToken cancellationToken)
    {
        try
        {
            var job = ConfigurationFactory.ParseString(
                $"redis = {JsonSerializer.Serialize(options.ToString(includePassword: true))}\nkey-prefix = {JsonSerializer.Serialize(prefix)}");
            await using var checker = await JobFactory.CreateCheckerAsync(JobType, new SinkCheckContext(source, job), cancellationToken).ConfigureAwait(false);
            var names = await ExpandAsync(source, tables, cancellationToken).ConfigureAwait(false);
            var all = new List<SinkCheckResult>();
            await foreach (var result in checker.CheckAsync(names, cancellationToken).ConfigureAwait(false))
            {
                all.Add(result);
                if (!quiet)
                {
                    Console.WriteLine(result);
                    foreach (var example in result.Examples)
                    {
                        Console.WriteLine("  " + example);
                    }
                }
            }

            var rows = all.Sum(r => r.SourceRows);
            var matches = all.All(r => r.Matches);
            Console.WriteLine(matches
                ? $"match: {rows} rows in {all.Count} tables are the same in the source and in Redis"
                : $"mismatch: {all.Count(r => !r.Matches)} of {all.Count} tables differ");
            return matches ? 0 : 3;
        }
        catch (Exception e) when (e is MySqlException or RedisException or ArgumentException)
        {
            return Errors.Report(e.Message);
        }
    }

    private static async Task<List<SinkCheckTable>> ExpandAsync(string source, string tables, CancellationToken cancellationToken)
    {
        var result = new List<SinkCheckTable>();
        foreach (var name in tables.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0)
            {
                throw new ArgumentException($"--tables entry '{name}' must be schema.table or schema.*.");
            }

            var schema = name[..dot];
            var table = name[(dot + 1)..];
            if (table != "*")
            {
                result.Add(new SinkCheckTable(schema, table));
                continue;
            }

            await using var connection = new MySqlConnection(source);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new MySqlCommand("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA=@s AND TABLE_TYPE='BASE TABLE' ORDER BY TABLE_NAME", connection);
            command.Parameters.AddWithValue("@s", schema);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add(new SinkCheckTable(schema, reader.GetString(0)));
            }
        }

        return result;
    }
}
