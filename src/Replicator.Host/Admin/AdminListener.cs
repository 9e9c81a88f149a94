using System.Net;

namespace Replicator.Host.Admin;

/// <summary>Starts the <see cref="HttpListener"/> of the admin endpoint.</summary>
internal static class AdminListener
{
    private const int Attempts = 50;

    /// <summary>
    /// Starts a listener on <paramref name="endpoint"/>. On Linux, <see cref="HttpListener.Start"/>
    /// throws <see cref="ArgumentNullException"/> when a client connects while it starts (the managed
    /// listener accepts that connection before its own state is set up: dotnet/corefx#35191), and the
    /// socket it already bound stays open, unreferenced, so the port is taken until that socket is
    /// finalized. A health check or monitor polling the port while the node starts hits this, and
    /// the node crashed. Collect the orphaned socket and start a new listener instead.
    /// </summary>
    public static HttpListener Start(IPEndPoint endpoint)
    {
        for (var attempt = 1; ; attempt++)
        {
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://{endpoint.Address}:{endpoint.Port}/");
            try
            {
                listener.Start();
                return listener;
            }
            catch (ArgumentNullException) when (attempt < Attempts)
            {
                // The failed listener closed itself; its bound socket is garbage: finalize it to free the port.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                Thread.Sleep(Math.Min(100, 5 * attempt));
            }
        }
    }
}
