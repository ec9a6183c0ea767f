using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Identity;

/// <summary>
/// The last-resort device id (<c>fingerprint</c>): a hash of the User-Agent and the client address
/// that forwarded-headers handling yields. URL-safe, prefixed <c>fp-</c>, same on every replica.
/// </summary>
internal static class ClientFingerprint
{
    public const string Prefix = "fp-";
    private const int StackLimit = 512;

    public static string Compute(string? userAgent, IPAddress? address)
    {
        userAgent ??= "";
        if (address is { IsIPv4MappedToIPv6: true }) address = address.MapToIPv4();

        // [address family][address bytes][0][UTF-8 user agent]
        var size = 1 + 16 + 1 + Encoding.UTF8.GetMaxByteCount(userAgent.Length);
        byte[]? rented = null;
        var buffer = size <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(size));
        try
        {
            var written = 0;
            buffer[written++] = (byte)(address?.AddressFamily ?? 0);
            if (address is not null && address.TryWriteBytes(buffer[written..], out var addressBytes)) written += addressBytes;
            buffer[written++] = 0;
            written += Encoding.UTF8.GetBytes(userAgent, buffer[written..]);

            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..written], hash);

            Span<char> id = stackalloc char[Prefix.Length + 22];
            Prefix.CopyTo(id);
            Base64Url.EncodeToChars(hash[..16], id[Prefix.Length..]);
            return new string(id);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
