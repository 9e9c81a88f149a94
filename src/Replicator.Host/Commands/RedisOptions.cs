using System.CommandLine;
using StackExchange.Redis;

namespace Replicator.Host.Commands;

/// <summary>
/// How <c>check</c> gets the Redis sink's configuration: as <see cref="SourceOptions"/> for the
/// source, never a password on the command line. <c>--redis host:port[,ssl=true…]</c> without a
/// password, which comes from <see cref="PasswordVariable"/> or <c>--redis-password-file</c>; or
/// <c>--redis-env NAME</c> for a variable with the whole configuration.
/// </summary>
internal sealed class RedisOptions
{
    public const string PasswordVariable = "REPLICATOR_REDIS_PASSWORD";

    private RedisOptions()
    {
        Redis = new Option<string?>("--redis")
        {
            Description = $"StackExchange.Redis configuration of the sink (host:port[,ssl=true,user=…]) without a password; the password comes from {PasswordVariable} or --redis-password-file.",
        };
        RedisEnv = new Option<string?>("--redis-env") { Description = "Name of an environment variable holding the whole Redis configuration, password included (instead of --redis)." };
        PasswordFile = new Option<FileInfo?>("--redis-password-file") { Description = $"File holding the Redis password (instead of {PasswordVariable})." };
    }

    public Option<string?> Redis { get; }

    public Option<string?> RedisEnv { get; }

    public Option<FileInfo?> PasswordFile { get; }

    public IEnumerable<Option> All => [Redis, RedisEnv, PasswordFile];

    public static RedisOptions Create() => new();

    /// <summary>The parsed configuration with its password; throws an <see cref="ArgumentException"/> naming the option and the fix.</summary>
    public ConfigurationOptions Resolve(ParseResult result, bool insecure)
    {
        var options = Resolve(result.GetValue(Redis), result.GetValue(RedisEnv), result.GetValue(PasswordFile), Environment.GetEnvironmentVariable);
        var option = result.GetValue(RedisEnv) is { } name ? $"--redis-env {name}" : "--redis";
        if (Engine.Configuration.TransportSecurity.CheckRedis(options.ToString(includePassword: false), option, insecure) is { } unsafeTransport)
        {
            throw new ArgumentException(unsafeTransport.Replace("replicator.insecure = on", "--insecure", StringComparison.Ordinal));
        }

        return options;
    }

    public static ConfigurationOptions Resolve(string? redis, string? redisEnv, FileInfo? passwordFile, Func<string, string?> environment)
    {
        if ((redis is null) == (redisEnv is null))
        {
            throw new ArgumentException("give --redis or --redis-env (one of them).");
        }

        ConfigurationOptions options;
        if (redisEnv is not null)
        {
            var value = environment(redisEnv) is { Length: > 0 } set ? set : throw new ArgumentException($"--redis-env {redisEnv}: the environment variable {redisEnv} is not set.");
            options = Parse(value, $"--redis-env {redisEnv}");
        }
        else
        {
            options = Parse(redis!, "--redis");
            if (options.Password is not null)
            {
                throw new ArgumentException(
                    $"--redis carries a password, which every user of this machine can read in ps. Give it without the password and the password in {PasswordVariable} or --redis-password-file, "
                    + "or put the whole configuration in an environment variable and name it with --redis-env.");
            }
        }

        if (Secrets.Read(passwordFile, "--redis-password-file", PasswordVariable, environment) is { } password)
        {
            options.Password = password;
        }

        return options;
    }

    private static ConfigurationOptions Parse(string configuration, string option)
    {
        try
        {
            return ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException)
        {
            throw new ArgumentException($"{option} is not a valid StackExchange.Redis configuration (host:port[,option=value…]).");
        }
    }
}
