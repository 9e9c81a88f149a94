using Akka.Configuration;
using Replicator.Engine.Jobs.Testing;
using Replicator.Jobs;

namespace Replicator.Engine.Jobs;

/// <summary>
/// Creates a definition's job from its <c>job.type</c>: a <see cref="JobTypes"/> name, or the
/// assembly-qualified name of a class implementing <see cref="IReplicationJob"/> with a
/// constructor taking a <see cref="JobContext"/> (or none).
/// </summary>
public static class JobFactory
{
    public static IReplicationJob Create(JobContext context)
    {
        var job = CreateUninstrumented(context);
        return ApplyLedger.Get(context.System) is { Enabled: true } ledger ? new LedgerRecordingJob(job, ledger, context.Definition.Job.Type) : job;
    }

    /// <summary>
    /// The checker of a registered job type's sink, made from <paramref name="context"/>, whose job
    /// config gets the type's defaults for the keys it leaves out.
    /// </summary>
    public static Task<ISinkChecker> CreateCheckerAsync(string jobType, SinkCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!JobTypes.All.TryGetValue(jobType, out var registered))
        {
            throw new ArgumentException($"'{jobType}' is not a registered job type ({string.Join(", ", JobTypes.All.Keys)}).", nameof(jobType));
        }

        if (registered.CreateChecker is not { } create)
        {
            throw new ArgumentException($"The {jobType} job type has no checker: its sink cannot be compared with the source.", nameof(jobType));
        }

        return create(context with { Job = context.Job.WithFallback(registered.Defaults) }, cancellationToken);
    }

    private static IReplicationJob CreateUninstrumented(JobContext context)
    {
        var type = context.Definition.Job.Type;
        if (JobTypes.All.TryGetValue(type, out var registered))
        {
            return registered.Create(context);
        }

        var clrType = Type.GetType(type, throwOnError: false)
            ?? throw new ConfigurationException($"{context.Definition.Job.Path}.type '{type}' is neither redis-cache, log, nor a loadable type name (use \"Namespace.Class, Assembly\").");
        if (!typeof(IReplicationJob).IsAssignableFrom(clrType))
        {
            throw new ConfigurationException($"{context.Definition.Job.Path}.type '{type}' does not implement {typeof(IReplicationJob).FullName}.");
        }

        var withContext = clrType.GetConstructor([typeof(JobContext)]);
        var instance = withContext is not null
            ? withContext.Invoke([context])
            : Activator.CreateInstance(clrType)
              ?? throw new ConfigurationException($"{context.Definition.Job.Path}.type '{type}' has no constructor taking a JobContext or nothing.");
        return (IReplicationJob)instance;
    }
}
