using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Gateway.Identity;

/// <summary>
/// Where a request comes from, for the sharing signal: a 64-bit hash of the client address (as
/// forwarded-headers handling yields it) and the User-Agent. The same on every replica; never 0
/// (0 means unknown). Computed on every enforced request, so it neither allocates nor locks.
/// </summary>
internal static class ClientOrigin
{
    private const ulong Seed = 0x9E3779B97F4A7C15;
    private const ulong Multiplier = 0xFF51AFD7ED558CCD;

    public static long Of(HttpContext context)
    {
        var userAgents = context.Request.Headers.UserAgent;
        // One User-Agent is the normal case and reads without a copy; several are joined (rare).
        var userAgent = userAgents.Count == 1 ? userAgents[0] : userAgents.ToString();
        return Compute(userAgent, context.Connection.RemoteIpAddress);
    }

    public static long Compute(string? userAgent, IPAddress? address)
    {
        var hash = Seed;
        Span<byte> bytes = stackalloc byte[16];
        if (address is not null && address.TryWriteBytes(bytes, out var written))
        {
            var span = bytes[..written];
            // An IPv4 client seen as ::ffff:a.b.c.d on a dual-stack socket is the same client.
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6) span = span[12..];
            hash = Mix(hash, (ulong)span.Length);
            foreach (var b in span) hash = Mix(hash, b);
        }
        var chars = MemoryMarshal.AsBytes((userAgent ?? "").AsSpan());
        hash = Mix(hash, (ulong)chars.Length);
        var blocks = MemoryMarshal.Cast<byte, ulong>(chars);
        foreach (var block in blocks) hash = Mix(hash, block);
        var rest = chars[(blocks.Length * sizeof(ulong))..];
        ulong tail = 0;
        for (var i = 0; i < rest.Length; i++) tail |= (ulong)rest[i] << (8 * i);
        hash = Mix(hash, tail);
        hash ^= hash >> 33;
        return hash == 0 ? 1 : (long)hash;
    }

    private static ulong Mix(ulong hash, ulong value) => BitOperations.RotateLeft((hash ^ value) * Multiplier, 31);
}
