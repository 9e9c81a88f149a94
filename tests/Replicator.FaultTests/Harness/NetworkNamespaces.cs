using System.Globalization;

namespace Replicator.FaultTests.Harness;

/// <summary>
/// FAULTS.md §4.1's partition topology, made by the test and removed by it: a bridge in the root
/// namespace holding <see cref="ServerAddress"/> (the servers bind it beside 127.0.0.1), and one
/// network namespace per node with a veth pair to the bridge and its own address, so that the nodes
/// reach each other and the servers over the bridge. A partition is a pair of <c>prohibit</c> routes
/// (<c>ip route add prohibit &lt;peer&gt;/32</c>) in each namespace it separates: the peer is
/// unreachable at once (fail-fast) while the servers stay reachable. Needs root.
/// </summary>
public sealed class NetworkNamespaces : IAsyncDisposable
{
    private readonly string _ip;
    private readonly string _id;
    private readonly int _subnet;
    private readonly List<string> _namespaces = [];
    private readonly List<(string Namespace, string Peer)> _routes = [];
    private bool _bridge;

    private NetworkNamespaces(string ip, string id, int subnet)
    {
        _ip = ip;
        _id = id;
        _subnet = subnet;
    }

    /// <summary>The bridge's address in the root namespace, which the servers bind.</summary>
    public string ServerAddress => Address(254);

    private string Bridge => $"rtb{_id}";

    /// <summary>Creates the bridge and <paramref name="nodes"/> namespaces; fails with what to do when not run as root.</summary>
    public static async Task<NetworkNamespaces> CreateAsync(int nodes)
    {
        if (!IsRoot())
        {
            throw new InvalidOperationException(
                "This scenario partitions the network with namespaces the test creates (ip netns add, veth pairs, a bridge) and needs root: run the fault suite as root, as CI does (sudo -E dotnet test tests/Replicator.FaultTests).");
        }

        var ip = Tools.Require("ip", "iproute2");
        var id = Guid.NewGuid().ToString("N")[..6];
        var network = new NetworkNamespaces(ip, id, 1 + Random.Shared.Next(250));
        try
        {
            await network.RunAsync("link", "add", network.Bridge, "type", "bridge");
            network._bridge = true;
            await network.RunAsync("addr", "add", network.ServerAddress + "/24", "dev", network.Bridge);
            await network.RunAsync("link", "set", network.Bridge, "up");
            for (var n = 1; n <= nodes; n++)
            {
                var name = network.Namespace(n);
                await network.RunAsync("netns", "add", name);
                network._namespaces.Add(name);
                await network.RunAsync("link", "add", $"rtv{id}{n}", "type", "veth", "peer", "name", "eth0", "netns", name);
                await network.RunAsync("link", "set", $"rtv{id}{n}", "master", network.Bridge);
                await network.RunAsync("link", "set", $"rtv{id}{n}", "up");
                await network.RunAsync("-n", name, "addr", "add", network.Address(n) + "/24", "dev", "eth0");
                await network.RunAsync("-n", name, "link", "set", "eth0", "up");
                await network.RunAsync("-n", name, "link", "set", "lo", "up");
            }
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }

        return network;
    }

    /// <summary>The address of node <paramref name="n"/> (1-based) inside its namespace.</summary>
    public string NodeAddress(int n) => Address(n);

    /// <summary>The namespace node <paramref name="n"/> runs in.</summary>
    public string Namespace(int n) => $"rt{_id}n{n}";

    /// <summary>The command line that runs <paramref name="file"/> inside node <paramref name="n"/>'s namespace (ip execs it, so the pid is the program's).</summary>
    public (string File, IEnumerable<string> Arguments) Inside(int n, string file, IEnumerable<string> arguments) =>
        (_ip, ["netns", "exec", Namespace(n), file, .. arguments]);

    /// <summary>Cuts every node of <paramref name="side"/> off from every node of <paramref name="others"/>, both ways; the servers stay reachable.</summary>
    public async Task PartitionAsync(IEnumerable<int> side, IEnumerable<int> others)
    {
        var a = side.ToList();
        var b = others.ToList();
        foreach (var (from, to) in a.SelectMany(x => b.Select(y => (x, y))).Concat(b.SelectMany(y => a.Select(x => (y, x)))))
        {
            await RunAsync("-n", Namespace(from), "route", "add", "prohibit", Address(to) + "/32");
            _routes.Add((Namespace(from), Address(to)));
        }
    }

    /// <summary>Removes every partition route.</summary>
    public async Task HealAsync()
    {
        foreach (var (ns, peer) in _routes)
        {
            await RunAsync("-n", ns, "route", "del", "prohibit", peer + "/32");
        }

        _routes.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        for (var n = 1; n <= _namespaces.Count; n++)
        {
            await TryAsync("netns", "del", Namespace(n));

            // The pair goes with its namespace only once the kernel frees the namespace, which
            // lingering sockets can delay (seen after a failed run): delete it from this side.
            await TryAsync("link", "del", $"rtv{_id}{n}");
        }

        if (_bridge)
        {
            await TryAsync("link", "del", Bridge);
        }
    }

    private string Address(int host) => string.Create(CultureInfo.InvariantCulture, $"10.201.{_subnet}.{host}");

    private Task RunAsync(params string[] arguments) => Tools.RunAsync(_ip, arguments);

    private async Task TryAsync(params string[] arguments)
    {
        try
        {
            await RunAsync(arguments);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static bool IsRoot()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                // Real, effective, saved, filesystem: the effective uid decides.
                return line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2] == "0";
            }
        }

        return false;
    }
}
