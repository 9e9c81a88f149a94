using Replicator.Engine.Replication;

namespace Replicator.Engine.Jobs;

/// <summary>What a <see cref="JobType"/>'s settings check may need of its definition besides the job config.</summary>
internal sealed record JobSettingsCheck(RetryPolicy Retry, TimeSpan ApplyTimeout, bool Insecure);
