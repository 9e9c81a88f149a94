using Akka.Configuration;
using Replicator.Engine.Configuration;
using Replicator.Jobs;

namespace Replicator.Engine.Jobs;

/// <summary>
/// A job type in the <see cref="JobTypes"/> registry: its name (a definition's <c>job.type</c>),
/// the keys its job config may hold besides <c>type</c>, their defaults, a check of the
/// definition's job config run when the settings are read, the factory of its job and, when the
/// type can read its sink back, the factory of its <see cref="ISinkChecker"/>.
/// </summary>
internal sealed record JobType(
    string Name,
    IReadOnlyList<string> Keys,
    Config Defaults,
    Action<ConfigReader, JobSettingsCheck> Check,
    Func<JobContext, IReplicationJob> Create,
    Func<SinkCheckContext, CancellationToken, Task<ISinkChecker>>? CreateChecker = null);
