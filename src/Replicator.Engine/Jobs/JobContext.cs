using Akka.Actor;
using Akka.Event;
using Replicator.Engine.Configuration;

namespace Replicator.Engine.Jobs;

/// <summary>What a job's constructor gets: its definition (with its job config), the node's settings, the actor system and a logger.</summary>
public sealed record JobContext(DefinitionSettings Definition, ReplicatorSettings Settings, ActorSystem System, ILoggingAdapter Log);
