using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Support;

/// <summary>Mints bearer tokens for tests: valid ones and every kind the gateway must refuse. Test keys only.</summary>
public static class TestTokens
{
    public const string Issuer = "https://issuer.test";
    public const string Audience = "seat-gateway-tests";

    /// <summary>The HS256 key the gateway under test trusts (test code only).</summary>
    public static readonly byte[] Key = SHA256.HashData("seat-gateway test signing key"u8);

    public static string KeyBase64 => Convert.ToBase64String(Key);

    private static readonly byte[] OtherKey = SHA256.HashData("some other key"u8);
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>A user token: <c>tid</c> and <c>sub</c> (each left out when null), plus extra claims.</summary>
    public static string User(string? tenant, string? user, params (string Type, object Value)[] claims)
    {
        var all = new Dictionary<string, object>();
        if (tenant is not null) all["tid"] = tenant;
        if (user is not null) all["sub"] = user;
        foreach (var (type, value) in claims) all[type] = value;
        return Create(all);
    }

    /// <summary>A client-credentials token: <c>tid</c> and <c>client_id</c>, no <c>sub</c>.</summary>
    public static string Service(string tenant, string clientId) =>
        Create(new Dictionary<string, object> { ["tid"] = tenant, ["client_id"] = clientId });

    public static string Create(
        IDictionary<string, object> claims,
        string issuer = Issuer,
        string audience = Audience,
        byte[]? key = null,
        DateTime? notBefore = null,
        DateTime? expires = null,
        bool withExpiry = true,
        IDictionary<string, object>? headers = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = notBefore ?? now.AddMinutes(-1),
            NotBefore = notBefore ?? now.AddMinutes(-1),
            Expires = withExpiry ? expires ?? now.AddMinutes(30) : null,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? Key), SecurityAlgorithms.HmacSha256),
            AdditionalHeaderClaims = headers,
        };
        return Handler.CreateToken(descriptor);
    }

    public static string Expired(string tenant, string user) =>
        Create(Claims(tenant, user), notBefore: DateTime.UtcNow.AddMinutes(-10), expires: DateTime.UtcNow.AddMinutes(-2));

    // Valid from an hour on: theory data is minted when tests are discovered, possibly minutes before the
    // test runs, and the gateway allows 30 s of clock skew.
    public static string NotYetValid(string tenant, string user) =>
        Create(Claims(tenant, user), notBefore: DateTime.UtcNow.AddHours(1), expires: DateTime.UtcNow.AddHours(2));

    public static string WithoutExpiry(string tenant, string user) => Create(Claims(tenant, user), withExpiry: false);

    public static string WrongIssuer(string tenant, string user) => Create(Claims(tenant, user), issuer: "https://evil.test");

    public static string WrongAudience(string tenant, string user) => Create(Claims(tenant, user), audience: "someone-else");

    /// <summary>
    /// A validly signed token whose JWS header marks an extension as critical (<c>crit</c>): a recipient
    /// that does not understand the extension must refuse the token (RFC 7515, 4.1.11).
    /// </summary>
    public static string CriticalExtension(string tenant, string user) =>
        Create(Claims(tenant, user), headers: new Dictionary<string, object> { ["crit"] = new[] { "urn:example:unknown" }, ["urn:example:unknown"] = true });

    public static string WrongKey(string tenant, string user) => Create(Claims(tenant, user), key: OtherKey);

    /// <summary>A valid token whose payload was changed afterwards (the signature no longer matches).</summary>
    public static string Tampered(string tenant, string user)
    {
        var parts = User(tenant, user).Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace(user, user + "x", StringComparison.Ordinal);
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
    }

    /// <summary>An unsigned token (<c>alg: none</c>) that is otherwise valid.</summary>
    public static string Unsigned(string tenant, string user)
    {
        var now = DateTimeOffset.UtcNow;
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode(
            $$"""{"iss":"{{Issuer}}","aud":"{{Audience}}","tid":"{{tenant}}","sub":"{{user}}","nbf":{{now.AddMinutes(-1).ToUnixTimeSeconds()}},"exp":{{now.AddMinutes(30).ToUnixTimeSeconds()}}}""");
        return $"{header}.{payload}.";
    }

    private static Dictionary<string, object> Claims(string tenant, string user) => new() { ["tid"] = tenant, ["sub"] = user };
}
