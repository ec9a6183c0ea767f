using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Identity;

/// <summary>
/// The gateway's device cookie (<c>cookie:seat-device</c>): minted for a web client that has no
/// device yet, so one browser is one device.
/// </summary>
/// <remarks>
/// A browser's first requests often go out in parallel, before any cookie comes back, and may reach
/// different replicas. So the device is not random: it is derived from the tenant, the user, the
/// client address and the User-Agent, and every such request (on any replica) gets the same device,
/// the same session and the same cookie value. Once set, the cookie keeps the browser's device when
/// its address changes.
/// </remarks>
internal static class DeviceCookie
{
    public const string Name = "seat-device";

    /// <summary>Browsers cap cookie lifetimes at 400 days.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(400);

    private static readonly CookieOptions Options = new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = SameSiteMode.Lax,
        Path = "/",
        MaxAge = MaxAge,
        IsEssential = true,
    };

    private const int StackLimit = 1024;

    /// <summary>
    /// The device of a browser without the cookie: 128 bits of a SHA-256 over tenant, user, client
    /// address and User-Agent, unpadded base64url (22 characters). The same on every replica.
    /// </summary>
    public static string Derive(string tenant, string user, string? userAgent, IPAddress? address)
    {
        userAgent ??= "";
        if (address is { IsIPv4MappedToIPv6: true }) address = address.MapToIPv4();

        // "seat-device" 0 tenant 0 user 0 [family][address bytes] 0 user agent
        var size = 12 + tenant.Length + 1 + user.Length + 1 + 1 + 16 + 1 + Encoding.UTF8.GetMaxByteCount(userAgent.Length);
        byte[]? rented = null;
        var buffer = size <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(size));
        try
        {
            var written = Encoding.ASCII.GetBytes("seat-device", buffer);
            buffer[written++] = 0;
            written += Encoding.ASCII.GetBytes(tenant, buffer[written..]);
            buffer[written++] = 0;
            written += Encoding.ASCII.GetBytes(user, buffer[written..]);
            buffer[written++] = 0;
            buffer[written++] = (byte)(address?.AddressFamily ?? 0);
            if (address is not null && address.TryWriteBytes(buffer[written..], out var addressBytes)) written += addressBytes;
            buffer[written++] = 0;
            written += Encoding.UTF8.GetBytes(userAgent, buffer[written..]);

            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..written], hash);
            return Base64Url.EncodeToString(hash[..16]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Sets the cookie on the response once it starts, after the proxy has copied the backend's
    /// headers, so the backend cannot drop it.
    /// </summary>
    public static void SetOnResponse(HttpContext context, string deviceId)
    {
        context.Response.OnStarting(static state =>
        {
            var (ctx, value) = ((HttpContext, string))state;
            ctx.Response.Cookies.Append(Name, value, Options);
            return Task.CompletedTask;
        }, (context, deviceId));
    }
}
