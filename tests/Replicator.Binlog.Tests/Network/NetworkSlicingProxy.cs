using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Replicator.Binlog.Tests.Network;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a test server. What the client sends passes as it comes;
/// what the server sends is cut into slices of <see cref="SliceSize"/> bytes, each written on its
/// own, so that socket reads end inside packets and events straddle the client's read buffer at
/// places the test chooses rather than where the server's writes happened to end. It records each
/// connection and when the client closed it.
/// </summary>
public sealed class NetworkSlicingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _pumps = [];
    private readonly ConcurrentQueue<TaskCompletionSource> _clientClosed = new();
    private readonly Task _acceptLoop;

    public NetworkSlicingProxy(int targetPort, int sliceSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sliceSize, 1);
        _targetPort = targetPort;
        SliceSize = sliceSize;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    public int Port { get; }

    public int SliceSize { get; }

    /// <summary>The connections accepted so far.</summary>
    public int Connections => _clientClosed.Count;

    /// <summary>Completes when the client closes the <paramref name="index"/>th connection (0-based).</summary>
    public Task ClientClosed(int index) => _clientClosed.ElementAt(index).Task;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        foreach (var pump in _pumps)
        {
            try
            {
                await pump.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or TimeoutException or ObjectDisposedException)
            {
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _clientClosed.Enqueue(closed);
            _pumps.Add(Task.Run(() => ServeAsync(client, closed)));
        }
    }

    private async Task ServeAsync(TcpClient client, TaskCompletionSource clientClosed)
    {
        using var _ = client;
        using var server = new TcpClient();
        using var session = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, session.Token);
            client.NoDelay = true;
            server.NoDelay = true;
            var upstream = ClientToServerAsync(client.GetStream(), server.GetStream(), clientClosed, session);
            var downstream = ServerToClientAsync(server.GetStream(), client.GetStream(), session.Token);
            await Task.WhenAny(upstream, downstream);
            await session.CancelAsync();
            await Task.WhenAll(Quietly(upstream), Quietly(downstream));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            clientClosed.TrySetResult();
        }
    }

    private static async Task ClientToServerAsync(Stream client, Stream server, TaskCompletionSource clientClosed, CancellationTokenSource session)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await client.ReadAsync(buffer, session.Token);
                if (read == 0)
                {
                    break;
                }

                await server.WriteAsync(buffer.AsMemory(0, read), session.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // A reset from the client is a close too.
        }

        clientClosed.TrySetResult();
    }

    private async Task ServerToClientAsync(Stream server, Stream client, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        while (true)
        {
            var read = await server.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                return;
            }

            for (var offset = 0; offset < read; offset += SliceSize)
            {
                await client.WriteAsync(buffer.AsMemory(offset, Math.Min(SliceSize, read - offset)), cancellationToken);
                await client.FlushAsync(cancellationToken);
            }
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
