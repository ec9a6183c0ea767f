using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Licensing.Tests.Infrastructure;

/// <summary>
/// Finds free TCP ports on the loopback interface. A port is free when it was free at the time of
/// the probe: callers that start a server on it should retry with another port if the bind fails.
/// Ports handed out by this process are never handed out twice.
/// </summary>
public static class FreePort
{
    private static readonly ConcurrentDictionary<int, byte> Issued = new();

    /// <summary>
    /// A free loopback port from 10000–19999, below the ephemeral range (32768+ on Linux) that the
    /// operating system hands out for outgoing connections and for port 0. A port the OS chose from
    /// that range could be taken by any outgoing connection (a test's HTTP or Redis client) between
    /// the probe and the server's bind; that made a fixture fail with "address already in use".
    /// </summary>
    public static int Get()
    {
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = Random.Shared.Next(10_000, 20_000);
            if (IsFree(port) && Issued.TryAdd(port, 0))
            {
                return port;
            }
        }

        throw new InvalidOperationException("Could not find a free loopback port.");
    }

    /// <summary>
    /// A free loopback port <c>P</c> for which <c>P + offset</c> is free too (Redis Cluster listens on
    /// its bus port, the data port + 10000). Chosen from 20000–29999 so that the pair stays below the
    /// usual ephemeral range.
    /// </summary>
    public static int GetWithCompanion(int offset = 10_000)
    {
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = Random.Shared.Next(20_000, 30_000);
            if (port + offset > IPEndPoint.MaxPort || !IsFree(port) || !IsFree(port + offset))
            {
                continue;
            }

            if (Issued.TryAdd(port, 0))
            {
                if (Issued.TryAdd(port + offset, 0))
                {
                    return port;
                }

                Issued.TryRemove(port, out _);
            }
        }

        throw new InvalidOperationException($"Could not find a free loopback port pair (P, P+{offset}).");
    }

    /// <summary>Whether a TCP listener can bind 127.0.0.1:<paramref name="port"/> right now.</summary>
    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
