using Akka.Configuration;

namespace Replicator.Engine.Jobs;

/// <summary>What a checker is made from: the source to read (a user with SELECT on the tables) and the job config a definition of the job type would hold (its <c>job</c> block, defaults filled in by the registry).</summary>
public sealed record SinkCheckContext(string SourceConnectionString, Config Job);
