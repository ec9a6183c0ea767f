using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gateway.Tests.Support;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Random requests over the corpus's grammar (issue 5, item 5): a route, a token with or without a
/// defect in an Authorization header of some shape, tenant/user/client-id/device claims, and
/// X-Device-Id / X-Client-Kind headers (absent, once or twice), values drawn from the hostile
/// alphabet or valid ids. <see cref="Predict"/> is the documented identity and admission rules written out as an oracle: which answer
/// the combination must get.
/// </summary>
public sealed class HostileGenerator(int seed)
{
    public enum Route { Enforce, Off, Release }

    public enum TokenDefect { None, Expired, WrongKey, Unsigned, Truncated, NonBase64, Tampered, WrongIssuer, WrongAudience, Garbage, Missing }

    public enum AuthShape { Bearer, LowerCase, UpperCase, NoScheme, SchemeOnly, Twice }

    /// <summary>One generated request, as data (so a failure prints what it was).</summary>
    public sealed record Generated(
        int Index, Route Route, TokenDefect Defect, AuthShape Shape,
        string? Tenant, string? Sub, string? ClientId, string? Did,
        string[] DeviceHeaders, string[] KindHeaders, bool Browser)
    {
        public override string ToString()
        {
            static string V(string? v) => v is null ? "-" : $"'{Printable.Shorten(v, 40)}'";
            static string L(string[] values) => "[" + string.Join(",", values.Select(v => $"'{Printable.Shorten(v, 40)}'")) + "]";
            return $"#{Index} {Route} token={Defect}/{Shape} tid={V(Tenant)} sub={V(Sub)} client_id={V(ClientId)} did={V(Did)} " +
                $"X-Device-Id={L(DeviceHeaders)} X-Client-Kind={L(KindHeaders)} ua={(Browser ? "browser" : "desktop")}";
        }
    }

    /// <summary>Total header bytes a generated request may carry: well inside Kestrel's 32 KiB, so no 431 is borderline.</summary>
    private const int MaxHeaderBytes = 26_000;

    private static readonly byte[] OtherKey = SHA256.HashData("hostile generator: some other key"u8);
    private static readonly string[] Kinds = ["desktop", "web", "mobile", "MOBILE", "Web", "toaster", "service", "", " web ", "desktop,web"];

    private readonly Random _random = new(seed);

    public Generated Next(int index)
    {
        while (true)
        {
            var generated = Draw(index);
            var request = Build(generated);
            if (request.Headers.Sum(h => h.Name.Length + Encoding.UTF8.GetByteCount(h.Value) + 4) <= MaxHeaderBytes) return generated;
        }
    }

    private Generated Draw(int index)
    {
        var route = Pick((80, Route.Enforce), (10, Route.Off), (10, Route.Release));
        var defect = _random.Next(100) < 75 ? TokenDefect.None : (TokenDefect)_random.Next(1, Enum.GetValues<TokenDefect>().Length);
        var shape = _random.Next(100) < 85 ? AuthShape.Bearer : (AuthShape)_random.Next(1, Enum.GetValues<AuthShape>().Length);

        var tenant = Pick<Func<string?>>(
            (60, () => HostileCorpus.Tenant), (20, () => ClaimValue()), (5, () => null),
            (5, () => "HOSTILE"), (10, () => "unlicensed-" + _random.Next(1000)))();
        string? sub = null, clientId = null;
        switch (_random.Next(100))
        {
            case < 80: sub = IdValue(claim: true); break;
            case < 95: clientId = IdValue(claim: true); break;
        }
        var did = _random.Next(100) < 25 ? IdValue(claim: true) : null;
        var devices = Repeat(Pick((30, 0), (60, 1), (10, 2)), () => IdValue(claim: false));
        var kinds = Repeat(Pick((70, 0), (25, 1), (5, 2)), () => _random.Next(100) < 75 ? Kinds[_random.Next(Kinds.Length)] : HeaderValue());
        return new Generated(index, route, defect, shape, tenant, sub, clientId, did, devices, kinds, Browser: _random.Next(100) < 30);
    }

    /// <summary>A valid id (half the time) or a value of the hostile alphabet.</summary>
    private string IdValue(bool claim)
    {
        if (_random.Next(100) < 50)
        {
            const string chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-{}*:?@/ ";
            var length = _random.Next(1, 24);
            var text = new char[length];
            for (var i = 0; i < length; i++) text[i] = chars[_random.Next(chars.Length)];
            return new string(text).Trim() is { Length: > 0 } trimmed ? trimmed : "x";
        }
        return claim ? ClaimValue() : HeaderValue();
    }

    private string ClaimValue()
    {
        var all = HostileCorpus.Alphabet.Concat(HostileCorpus.ClaimOnlyAlphabet).ToArray();
        return all[_random.Next(all.Length)].Value;
    }

    private string HeaderValue() => HostileCorpus.Alphabet[_random.Next(HostileCorpus.Alphabet.Length)].Value;

    private string[] Repeat(int count, Func<string> value) => Enumerable.Range(0, count).Select(_ => value()).ToArray();

    private T Pick<T>(params (int Weight, T Value)[] choices)
    {
        var roll = _random.Next(choices.Sum(c => c.Weight));
        foreach (var (weight, value) in choices)
        {
            if (roll < weight) return value;
            roll -= weight;
        }
        return choices[^1].Value;
    }

    // ---- the request --------------------------------------------------------------------------

    public static RawRequest Build(Generated g)
    {
        var path = g.Route switch { Route.Enforce => "/api/gen/", Route.Off => "/open/gen/", _ => "/logout/gen/" } + g.Index.ToString(CultureInfo.InvariantCulture);
        var request = new RawRequest("GET", path);
        request.Header("User-Agent", g.Browser ? GatewayRequests.BrowserAgent : GatewayRequests.DesktopAgent);

        if (g.Defect != TokenDefect.Missing)
        {
            var token = Token(g);
            switch (g.Shape)
            {
                case AuthShape.Bearer: request.Header("Authorization", "Bearer " + token); break;
                case AuthShape.LowerCase: request.Header("Authorization", "bearer " + token); break;
                case AuthShape.UpperCase: request.Header("Authorization", "BEARER " + token); break;
                case AuthShape.NoScheme: request.Header("Authorization", token); break;
                case AuthShape.SchemeOnly: request.Header("Authorization", "Bearer"); break;
                case AuthShape.Twice: request.Header("Authorization", "Bearer " + token).Header("Authorization", "Bearer " + token); break;
            }
        }
        foreach (var device in g.DeviceHeaders) request.Header("X-Device-Id", device);
        foreach (var kind in g.KindHeaders) request.Header("X-Client-Kind", kind);
        return request;
    }

    private static string Token(Generated g)
    {
        var claims = new Dictionary<string, object>();
        if (g.Tenant is not null) claims["tid"] = g.Tenant;
        if (g.Sub is not null) claims["sub"] = g.Sub;
        if (g.ClientId is not null) claims["client_id"] = g.ClientId;
        if (g.Did is not null) claims["did"] = g.Did;
        var now = DateTime.UtcNow;
        switch (g.Defect)
        {
            case TokenDefect.Expired: return TestTokens.Create(claims, notBefore: now.AddMinutes(-10), expires: now.AddMinutes(-2));
            case TokenDefect.WrongKey: return TestTokens.Create(claims, key: OtherKey);
            case TokenDefect.WrongIssuer: return TestTokens.Create(claims, issuer: "https://evil.test");
            case TokenDefect.WrongAudience: return TestTokens.Create(claims, audience: "someone-else");
            case TokenDefect.Garbage: return new string('A', 10 * 1024);
        }
        var valid = TestTokens.Create(claims);
        var s = valid.Split('.');
        return g.Defect switch
        {
            TokenDefect.Unsigned => $"{Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""")}.{s[1]}.",
            TokenDefect.Truncated => valid[..(valid.Length * 2 / 3)],
            TokenDefect.NonBase64 => $"{s[0]}.{s[1][..(s[1].Length / 2)]}!{s[1][(s[1].Length / 2)..]}.{s[2]}",
            TokenDefect.Tampered => $"{s[0]}.{Base64UrlEncoder.Encode(Base64UrlEncoder.Decode(s[1]).TrimEnd('}') + ",\"x\":1}")}.{s[2]}",
            _ => valid,
        };
    }

    // ---- the oracle ---------------------------------------------------------------------------

    /// <summary>The answer the documented rules require for <paramref name="g"/> (with the gateway's fixed tenant plans).</summary>
    public static Outcome Predict(Generated g)
    {
        // Kestrel first: a NUL, CR or LF in any header value breaks the request.
        if (g.DeviceHeaders.Concat(g.KindHeaders).Any(IdOracle.BreaksHeaderSyntax)) return Outcome.Server(400);
        if (g.Route == Route.Off) return Outcome.PassedThrough;

        var authenticated = g.Defect == TokenDefect.None && g.Shape is AuthShape.Bearer or AuthShape.LowerCase or AuthShape.UpperCase;
        var identity = authenticated ? Resolve(g, release: g.Route == Route.Release) : null;
        if (g.Route == Route.Release)
            return identity is { Problem: null } ? Outcome.Released(g.Tenant!) : Outcome.PassedThrough;
        if (!authenticated) return Outcome.Challenge;
        if (identity!.Problem is { } problem) return problem;
        return g.Tenant == HostileCorpus.Tenant ? Outcome.Forwarded : Outcome.Problem(403, "tenant-unlicensed");
    }

    private sealed record Resolution(Outcome? Problem);

    private static Resolution Resolve(Generated g, bool release)
    {
        var invalid = new Resolution(Outcome.InvalidIdentity);
        var incomplete = new Resolution(Outcome.Problem(403, "identity-incomplete"));

        // Tenant: the claim (no default tenant is configured).
        if (g.Tenant is null) return incomplete;
        if (!IdOracle.IsTenant(g.Tenant)) return invalid;

        // User: sub, else client_id (a service identity, whatever kind it declares).
        bool web;
        if (g.Sub is not null)
        {
            if (!IdOracle.IsId(g.Sub)) return invalid;
            if (g.KindHeaders.Length > 1) return invalid;
            if (g.KindHeaders.Length == 1)
            {
                var kind = IdOracle.AsHeaderValue(g.KindHeaders[0]);
                if (!new[] { "desktop", "web", "mobile" }.Contains(kind, StringComparer.OrdinalIgnoreCase)) return invalid;
                web = kind.Equals("web", StringComparison.OrdinalIgnoreCase);
            }
            else
            {
                web = g.Browser;
            }
        }
        else if (g.ClientId is not null)
        {
            if (!IdOracle.IsId(g.ClientId)) return invalid;
            web = false;
        }
        else
        {
            return incomplete;
        }

        // Device: claim:did, header:X-Device-Id, claim:sid, cookie:seat-device (web only), fingerprint.
        if (g.Did is not null) return IdOracle.IsId(g.Did) ? new Resolution(null) : invalid;
        if (g.DeviceHeaders.Length > 1) return invalid;
        if (g.DeviceHeaders.Length == 1 && IdOracle.AsHeaderValue(g.DeviceHeaders[0]) is { Length: > 0 } device)
            return IdOracle.IsId(device) ? new Resolution(null) : invalid;
        // A browser without the device cookie: an enforced request mints one; a release has no session.
        if (web && release) return incomplete;
        return new Resolution(null);
    }
}
