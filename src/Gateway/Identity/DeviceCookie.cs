using System.Buffers.Text;
using System.Security.Cryptography;

namespace Gateway.Identity;

/// <summary>
/// The gateway's device cookie (<c>cookie:seat-device</c>): minted for a web client that has no
/// device yet, so one browser is one device (SPEC §2).
/// </summary>
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

    /// <summary>A new random device id: 128 bits, unpadded base64url (22 characters).</summary>
    public static string Mint()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
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
