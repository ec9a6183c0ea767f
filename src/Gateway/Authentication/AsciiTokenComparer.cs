using System.Text;

namespace Gateway.Authentication;

/// <summary>
/// Compares cached tokens, held as ASCII bytes (half the memory of a string: a provider's token is often
/// 1–2 kB of text), with the token of a request, read as characters from its header without a copy.
/// </summary>
/// <remarks>
/// The hash covers only the token's last <see cref="HashedTail"/> characters, its signature: they differ
/// between any two tokens, and hashing them costs the same for a 300-byte and a 3 kB token. Equality
/// always compares the whole token. The hash is the runtime's randomized string hash, and only validated
/// tokens are ever stored, so nobody can fill one bucket on purpose.
/// </remarks>
internal sealed class AsciiTokenComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<char>, byte[]>
{
    public static readonly AsciiTokenComparer Instance = new();

    private const int HashedTail = 32;

    private AsciiTokenComparer() { }

    /// <summary>The key of a token, or null when it is not ASCII (no valid token is: such a token is not cached).</summary>
    public static byte[]? KeyOf(string token) => Ascii.IsValid(token) ? Instance.Create(token) : null;

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] key)
    {
        var tail = key.AsSpan(Math.Max(0, key.Length - HashedTail));
        Span<char> chars = stackalloc char[HashedTail];
        var written = Encoding.ASCII.GetChars(tail, chars);
        return string.GetHashCode(chars[..written]);
    }

    public bool Equals(ReadOnlySpan<char> token, byte[] key) => Ascii.Equals(key, token);

    public int GetHashCode(ReadOnlySpan<char> token) => string.GetHashCode(token[Math.Max(0, token.Length - HashedTail)..]);

    public byte[] Create(ReadOnlySpan<char> token)
    {
        var key = new byte[token.Length];
        Encoding.ASCII.GetBytes(token, key);
        return key;
    }
}
