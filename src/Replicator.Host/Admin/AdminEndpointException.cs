namespace Replicator.Host.Admin;

/// <summary>The admin endpoint cannot start as asked; the message names the option and the fix.</summary>
internal sealed class AdminEndpointException(string message, Exception? inner = null) : Exception(message, inner);
