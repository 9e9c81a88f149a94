using Akka.Configuration;
using Replicator.Engine.Jobs;

namespace Replicator.Engine.Configuration;

/// <summary>
/// A definition's job: its type (a <see cref="JobTypes"/> name such as <c>redis-cache</c> or
/// <c>log</c>, or a class name) and its whole config object with the type's defaults under it,
/// which the job's factory reads.
/// </summary>
public sealed record JobSettings(string Type, Config Config, string Path)
{
    /// <summary>
    /// Reads a definition's job: a registered type's keys are checked strictly (an unknown one
    /// names its full path) and its defaults filled in; any other type must be a loadable class name.
    /// </summary>
    internal static JobSettings Read(ConfigReader job, string definition, JobSettingsCheck check)
    {
        var type = job.String("type", required: true);
        if (JobTypes.All.TryGetValue(type, out var registered))
        {
            job.RequireOnly(["type", .. registered.Keys]);
            var merged = new ConfigReader(job.Config.WithFallback(registered.Defaults), job.Path);
            registered.Check(merged, check);
            return new JobSettings(type, merged.Config, job.Path);
        }

        if (System.Type.GetType(type, throwOnError: false) is null)
        {
            throw job.Error(
                "type",
                $"of definition '{definition}' is '{type}', which is neither a known job type ({string.Join(", ", JobTypes.All.Keys)}) nor a loadable class name (use \"Namespace.Class, Assembly\").");
        }

        return new JobSettings(type, job.HasAny ? job.Config : ConfigurationFactory.Empty, job.Path);
    }

    public override string ToString() => $"job {Type}";
}
