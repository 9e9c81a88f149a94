using System.Net;
using System.Net.Sockets;
using Replicator.Host.Admin;

namespace Replicator.IntegrationTests;

/// <summary>
/// The admin endpoint starts while something already polls its port (a health check, the fault
/// suite's monitors). The managed HttpListener's start races with such a connection on Linux
/// (dotnet/corefx#35191); a node used to crash on it.
/// </summary>
public sealed class AdminListenerTests
{
    [Fact]
    public async Task The_admin_listener_starts_and_serves_while_clients_keep_connecting_to_its_port()
    {
        for (var round = 0; round < 40; round++)
        {
            var port = FreePort();
            using var stop = new CancellationTokenSource();
            var hammer = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var client = new TcpClient();
                        client.Connect(IPAddress.Loopback, port);
                    }
                    catch (SocketException)
                    {
                    }
                }
            });
            await Task.Delay(20);

            using var listener = AdminListener.Start(new IPEndPoint(IPAddress.Loopback, port));
            await stop.CancelAsync();
            await hammer;
            var serve = Task.Run(async () =>
            {
                var context = await listener.GetContextAsync();
                context.Response.StatusCode = 204;
                context.Response.Close();
            });
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/status");
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            await serve;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
