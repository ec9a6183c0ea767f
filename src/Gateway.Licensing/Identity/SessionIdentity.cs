using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Licensing.Identity;

/// <summary>
/// (tenant, user, client kind, device): the four values that make one session. The same
/// four values are the same session whatever token carried them.
/// </summary>
/// <param name="Tenant">The tenant id (<see cref="IdentityRules.IsValidTenant"/>).</param>
/// <param name="User">The user id, or a service identity's client id (<see cref="IdentityRules.IsValidId"/>).</param>
/// <param name="ClientKind">The kind of client.</param>
/// <param name="Device">The device id (<see cref="IdentityRules.IsValidId"/>).</param>
public readonly record struct SessionIdentity(string Tenant, string User, ClientKind ClientKind, string Device)
{
    /// <summary>Length of <see cref="ComputeSessionId"/>'s result: 16 bytes in unpadded base64url.</summary>
    public const int SessionIdLength = 22;

    /// <summary>
    /// The session id: a hash of the identity, so every replica derives the same id without asking the
    /// store, and the id reveals nothing of the user or device. Opaque and URL-safe.
    /// </summary>
    public string ComputeSessionId()
    {
        // Tenant ≤ 64, user and device ≤ 128 ASCII chars, kind ≤ 7: the input always fits on the stack.
        // The kind is hashed by name, so reordering the enum never changes a session id.
        var kind = ClientKind.ToName();
        Span<byte> input = stackalloc byte[Tenant.Length + User.Length + kind.Length + Device.Length + 3];
        var written = Encoding.ASCII.GetBytes(Tenant, input);
        input[written++] = 0;
        written += Encoding.ASCII.GetBytes(User, input[written..]);
        input[written++] = 0;
        written += Encoding.ASCII.GetBytes(kind, input[written..]);
        input[written++] = 0;
        written += Encoding.ASCII.GetBytes(Device, input[written..]);

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input[..written], hash);
        return Base64UrlEncode(hash[..16]);
    }

    private static string Base64UrlEncode(ReadOnlySpan<byte> bytes) =>
        System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <summary>Whether <paramref name="value"/> has the shape of a session id (used to 404 malformed ids early).</summary>
    public static bool IsWellFormedSessionId(ReadOnlySpan<char> value)
    {
        if (value.Length != SessionIdLength) return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        }
        return true;
    }
}
