using System.Text;
using System.Text.Json;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Rules;
using Gateway.Management;
using Gateway.Tests.Support;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Hostile;

/// <summary>One hostile request: built when it is sent (tokens carry the current time) and its expected answer.</summary>
public sealed record HostileCase(string Name, Outcome Expected, Func<RawRequest> Build)
{
    public override string ToString() => Name;
}

/// <summary>
/// The hostile corpus (issue 5, item 5) as data: malformed, oversized, unsigned and wrong-key tokens,
/// odd Authorization headers, huge and repeated headers, hostile ids in headers, token claims and
/// management paths, claims of the wrong JSON type, and management bodies and paths meant to break
/// the parser or the authorization. <see cref="HostileCorpusTests"/> sends each to the real gateway on
/// Kestrel. Where the id rules make an odd value legal (printable ASCII such as <c>{</c>, <c>*</c>, <c>:</c>
/// in user and device ids), the case expects it to be admitted, and the store must still hold no key
/// outside the registered tenants' fixed key sets.
/// </summary>
public static class HostileCorpus
{
    /// <summary>ConcurrentSessions with room for every admitted case; from configuration.</summary>
    public const string Tenant = "hostile";

    /// <summary>RegisteredUsers, 5 seats, managed through the API: alice active with one session.</summary>
    public const string Managed = "mgmt";

    /// <summary>Another tenant that no case may touch.</summary>
    public const string Victim = "victim";

    public const string User = "alice";

    /// <summary>The hostile alphabet: ids with key and glob syntax, control characters, Unicode, extreme lengths and blanks.</summary>
    public static readonly (string Name, string Value)[] Alphabet =
    [
        ("lbrace", "{"), ("rbrace", "}"), ("hash-tag", "{victim}"), ("star", "*"), ("colon", ":"), ("question", "?"),
        ("mixed", "a{b}*c:d?e"), ("key-like", "lic:{victim}:plan"), ("glob", "lic:*"), ("dot-dot", "../../victim"),
        ("percent", "%00%2F%"), ("quote", "\"'`"), ("backslash", "a\\b"), ("comma", "a,b"), ("semicolon", "a;b=c"),
        ("cr", "a\rb"), ("lf", "a\nb"), ("crlf", "a\r\nb"), ("nul", "a\0b"), ("tab", "a\tb"), ("soh", "a\u0001b"),
        ("us", "a\u001fb"), ("del", "a\u007fb"),
        ("latin1", "caf\u00e9"), ("cjk", "\u7528\u6237"), ("emoji", "\ud83d\ude00"), ("rtl-override", "a\u202eb"),
        ("bom", "\ufeffa"), ("nbsp", "a\u00a0b"), ("fullwidth-colon", "a\uff1ab"),
        ("len-10k", new string('x', 10 * 1024)), ("len-129", new string('x', 129)), ("len-128", new string('x', 128)),
        ("len-65", new string('t', 65)), ("len-64", new string('t', 64)),
        ("empty", ""), ("space", " "), ("spaces", "   "), ("tab-only", "\t"), ("padded", "  x  "),
        ("plain", "plain-1.A_b"),
    ];

    /// <summary>Values only a token can carry (JSON escapes): they cannot be written into a header or a path.</summary>
    public static readonly (string Name, string Value)[] ClaimOnlyAlphabet =
    [
        ("lone-surrogate", "a\ud800b"), ("nul-only", "\0"), ("newline-end", "x\n"),
    ];

    public static IReadOnlyList<HostileCase> All { get; } = Build();

    /// <summary>The management tenant (alice active, with a session) and a victim tenant with a session.</summary>
    public static async Task SeedAsync(KestrelGatewayFixture fixture)
    {
        var store = fixture.Gateway.Store;
        await store.SetPlanAsync(Managed, new TenantPlan(LicenseModel.RegisteredUsers, 5, []), fromConfiguration: false, "test");
        await store.SetUserActiveAsync(Managed, User, true, "test");
        await store.AdmitAsync(new SessionIdentity(Managed, User, ClientKind.Desktop, "d1"));
        await store.SetPlanAsync(Victim, new TenantPlan(LicenseModel.ConcurrentSessions, 3, []), fromConfiguration: false, "test");
        await store.AdmitAsync(new SessionIdentity(Victim, "vera", ClientKind.Desktop, "v1"));
    }

    public static HostileCase Get(string name) => All.Single(c => c.Name == name);

    private static string Valid() => TestTokens.User(Tenant, User);

    private static RawRequest Api(string token) => new RawRequest("GET", "/api/hostile").Bearer(token).Header("X-Device-Id", "d1");

    private static RawRequest ApiWith(string authorization) =>
        new RawRequest("GET", "/api/hostile").Header("Authorization", authorization).Header("X-Device-Id", "d1");

    private static string Operator() => TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));

    private static string AdminOf(string tenant) => TestTokens.User(tenant, "frank", ("role", ManagementCaller.AdminRole));

    private static RawRequest Mgmt(string method, string path, string? token = null, string? body = null)
    {
        var request = new RawRequest(method, "/_licensing/v1/" + path);
        if (token is not null) request.Bearer(token);
        if (body is not null) request.Json(body);
        return request;
    }

    private static RawRequest MgmtBytes(string method, string path, byte[] body) =>
        new RawRequest(method, "/_licensing/v1/" + path).Bearer(Operator()).JsonBytes(body);

    private static IReadOnlyList<HostileCase> Build()
    {
        var cases = new List<HostileCase>();
        void Add(string name, Outcome expected, Func<RawRequest> build) => cases.Add(new HostileCase(name, expected, build));

        Tokens(Add);
        AuthorizationHeaders(Add);
        Headers(Add);
        IdsInHeadersAndClaims(Add);
        ClaimTypes(Add);
        ManagementBodies(Add);
        ManagementPaths(Add);
        return cases;
    }

    // ---- tokens -------------------------------------------------------------------------------

    private static void Tokens(Action<string, Outcome, Func<RawRequest>> add)
    {
        var challenge = Outcome.Challenge;
        add("token: none", challenge, () => new RawRequest("GET", "/api/hostile").Header("X-Device-Id", "d1"));
        add("token: not a JWT", challenge, () => Api("not-a-jwt"));
        add("token: alg none, empty signature", challenge, () => Api(TestTokens.Unsigned(Tenant, User)));
        add("token: alg none, signature kept", challenge, () => Api(WithHeader(Valid(), """{"alg":"none","typ":"JWT"}""", keepSignature: true)));
        add("token: alg None (mixed case)", challenge, () => Api(WithHeader(Valid(), """{"alg":"None","typ":"JWT"}""", keepSignature: false)));
        add("token: alg RS256 over an HMAC signature", challenge, () => Api(WithHeader(Valid(), """{"alg":"RS256","typ":"JWT"}""", keepSignature: true)));
        add("token: alg HS512 over an HS256 signature", challenge, () => Api(WithHeader(Valid(), """{"alg":"HS512","typ":"JWT"}""", keepSignature: true)));
        add("token: header not JSON", challenge, () => Api(WithHeader(Valid(), "not json", keepSignature: true)));
        add("token: payload a JSON array", challenge, () => Api(Segments(Valid())[0] + "." + Base64UrlEncoder.Encode("[1,2,3]") + "." + Segments(Valid())[2]));
        add("token: expired", challenge, () => Api(TestTokens.Expired(Tenant, User)));
        add("token: not yet valid", challenge, () => Api(TestTokens.NotYetValid(Tenant, User)));
        add("token: without expiry", challenge, () => Api(TestTokens.WithoutExpiry(Tenant, User)));
        add("token: wrong issuer", challenge, () => Api(TestTokens.WrongIssuer(Tenant, User)));
        add("token: wrong audience", challenge, () => Api(TestTokens.WrongAudience(Tenant, User)));
        add("token: wrong key", challenge, () => Api(TestTokens.WrongKey(Tenant, User)));
        add("token: payload tampered", challenge, () => Api(TestTokens.Tampered(Tenant, User)));
        add("token: payload of another valid token", challenge, () =>
        {
            var a = Segments(Valid());
            var b = Segments(TestTokens.User(Tenant, "mallory"));
            return Api($"{a[0]}.{b[1]}.{a[2]}");
        });
        add("token: truncated to half", challenge, () => { var t = Valid(); return Api(t[..(t.Length / 2)]); });
        add("token: signature truncated", challenge, () => { var t = Valid(); return Api(t[..^4]); });
        add("token: signature segment missing", challenge, () => { var s = Segments(Valid()); return Api($"{s[0]}.{s[1]}"); });
        add("token: four segments", challenge, () => Api(Valid() + ".AAAA"));
        add("token: five segments (JWE shape)", challenge, () => Api(Valid() + ".AAAA.BBBB"));
        add("token: non-base64 in header", challenge, () => Api("eyJ!!!" + Valid()[6..]));
        add("token: non-base64 in payload", challenge, () => { var s = Segments(Valid()); return Api($"{s[0]}.%%%{s[1]}.{s[2]}"); });
        add("token: non-base64 in signature", challenge, () => { var s = Segments(Valid()); return Api($"{s[0]}.{s[1]}.***{s[2]}"); });
        add("token: padded base64", challenge, () => { var s = Segments(Valid()); return Api($"{s[0]}==.{s[1]}==.{s[2]}=="); });
        add("token: only dots", challenge, () => Api(".."));
        add("token: a space inside", challenge, () => { var t = Valid(); return Api(t[..20] + " " + t[20..]); });
        add("token: UTF-8 inside", challenge, () => { var t = Valid(); return Api(t[..20] + "\u00e9" + t[20..]); });
        add("token: 20 kB of garbage", challenge, () => Api(new string('A', 20 * 1024)));
        add("token: 20 kB of dots and base64", challenge, () => Api(string.Concat(Enumerable.Repeat("eyJhIjoxfQ.", 1800))));
        add("token: valid, signed, 20 kB (a padding claim)", Outcome.Forwarded, () => Api(TestTokens.User(Tenant, User, ("pad", new string('p', 15 * 1024)))));
        add("token: 200 kB", Outcome.Server(431), () => Api(new string('A', 200 * 1024)));
        add("token: 60 kB, validly signed", Outcome.Server(431), () => Api(TestTokens.User(Tenant, User, ("pad", new string('p', 45 * 1024)))));
        add("token: followed by NUL", Outcome.Server(400), () => Api(Valid() + "\0"));
        add("token: followed by a bare CR", Outcome.Server(400), () => Api(Valid() + "\rX-Licensing-Tenant: victim"));
        add("token: followed by CRLF and a forged X-Licensing-Tenant (header injection)", Outcome.Forwarded, () => Api(Valid() + "\r\nX-Licensing-Tenant: victim"));
        add("token: followed by a bare LF and a forged X-Licensing-Session", Outcome.Forwarded, () => Api(Valid() + "\nX-Licensing-Session: forged"));

        // Routes that do not admit: Off forwards whatever it gets; Release forwards and ends no session.
        add("off route: garbage token passes through", Outcome.PassedThrough, () => new RawRequest("GET", "/open/hostile").Bearer("not-a-jwt"));
        add("off route: alg none passes through", Outcome.PassedThrough, () => new RawRequest("GET", "/open/hostile").Bearer(TestTokens.Unsigned(Tenant, User)));
        add("off route: 20 kB token passes through", Outcome.PassedThrough, () => new RawRequest("GET", "/open/hostile").Bearer(new string('A', 20 * 1024)));
        add("release route: garbage token ends nothing", Outcome.PassedThrough, () => new RawRequest("GET", "/logout/hostile").Bearer("not-a-jwt"));
        add("release route: wrong-key token ends nothing", Outcome.PassedThrough, () => new RawRequest("GET", "/logout/hostile").Bearer(TestTokens.WrongKey(Tenant, User)).Header("X-Device-Id", "d1"));
        add("release route: expired token ends nothing", Outcome.PassedThrough, () => new RawRequest("GET", "/logout/hostile").Bearer(TestTokens.Expired(Tenant, User)).Header("X-Device-Id", "d1"));
        add("release route: hostile device ends nothing", Outcome.PassedThrough, () => new RawRequest("GET", "/logout/hostile").Bearer(Valid()).Header("X-Device-Id", "caf\u00e9"));
        add("release route: valid identity with forged X-Licensing headers", Outcome.Released(Tenant), () => new RawRequest("GET", "/logout/hostile")
            .Bearer(Valid()).Header("X-Device-Id", "release-1").Header("X-Licensing-Session", "AAAAAAAAAAAAAAAAAAAAAA").Header("X-Licensing-Tenant", Victim));
        add("release route: hostile tenant claim ends nothing", Outcome.PassedThrough, () => new RawRequest("GET", "/logout/hostile").Bearer(TestTokens.User("{victim}", User)).Header("X-Device-Id", "d1"));
    }

    private static string[] Segments(string token) => token.Split('.');

    private static string WithHeader(string token, string headerJson, bool keepSignature)
    {
        var s = Segments(token);
        return $"{Base64UrlEncoder.Encode(headerJson)}.{s[1]}.{(keepSignature ? s[2] : "")}";
    }

    // ---- Authorization header shapes ----------------------------------------------------------

    private static void AuthorizationHeaders(Action<string, Outcome, Func<RawRequest>> add)
    {
        var challenge = Outcome.Challenge;
        // RFC 9110, section 11.1: the scheme is case-insensitive, so these are valid requests.
        add("authorization: lower-case scheme, valid token", Outcome.Forwarded, () => ApiWith("bearer " + Valid()));
        add("authorization: upper-case scheme, valid token", Outcome.Forwarded, () => ApiWith("BEARER " + Valid()));
        add("authorization: lower-case scheme, expired token", challenge, () => ApiWith("bearer " + TestTokens.Expired(Tenant, User)));
        add("authorization: lower-case scheme, wrong key", challenge, () => ApiWith("bearer " + TestTokens.WrongKey(Tenant, User)));
        add("authorization: Bearer and no token", challenge, () => ApiWith("Bearer"));
        add("authorization: Bearer and blanks", challenge, () => ApiWith("Bearer    "));
        add("authorization: empty", challenge, () => ApiWith(""));
        add("authorization: token without scheme", challenge, () => ApiWith(Valid()));
        add("authorization: Basic", challenge, () => ApiWith("Basic dXNlcjpwYXNz"));
        add("authorization: other scheme with a valid token", challenge, () => ApiWith("Token " + Valid()));
        add("authorization: scheme glued to the token", challenge, () => ApiWith("Bearer" + Valid()));
        add("authorization: two tokens in one header", challenge, () => ApiWith($"Bearer {Valid()}, Bearer {Valid()}"));
        add("authorization: twice, both valid", challenge, () => Api(Valid()).Bearer(Valid()));
        add("authorization: twice, valid then garbage", challenge, () => Api(Valid()).Bearer("garbage"));
        add("authorization: twice, garbage then valid", challenge, () => Api("garbage").Bearer(Valid()));
        // An empty second header carries no credential: the one token is the caller's.
        add("authorization: twice, valid then empty", Outcome.Forwarded, () => Api(Valid()).Header("Authorization", ""));
        add("authorization: twice, valid then another tenant's valid token", challenge, () => Api(Valid()).Bearer(TestTokens.User(Victim, User)));
        add("authorization: UTF-8 token", challenge, () => ApiWith("Bearer caf\u00e9"));
        add("authorization: 20 kB of blanks then a valid token", challenge, () => ApiWith("Bearer" + new string(' ', 20 * 1024) + "x" + Valid()));
    }

    // ---- other headers ------------------------------------------------------------------------

    private static void Headers(Action<string, Outcome, Func<RawRequest>> add)
    {
        var invalid = Outcome.InvalidIdentity;
        add("device header twice, same value", invalid, () => Api(Valid()).Header("X-Device-Id", "d1"));
        add("device header twice, different values", invalid, () => Api(Valid()).Header("X-Device-Id", "d2"));
        add("device header 50 times", invalid, () =>
        {
            var r = Api(Valid());
            for (var i = 0; i < 49; i++) r.Header("X-Device-Id", "d" + i);
            return r;
        });
        add("device header twice, case varied names", invalid, () => Api(Valid()).Header("x-device-id", "d2"));
        add("client kind header twice", invalid, () => Api(Valid()).Header("X-Client-Kind", "desktop").Header("X-Client-Kind", "desktop"));
        add("client kind header with two kinds", invalid, () => Api(Valid()).Header("X-Client-Kind", "desktop, web"));
        add("client kind toaster", invalid, () => Api(Valid()).Header("X-Client-Kind", "toaster"));
        add("client kind service (never declared)", invalid, () => Api(Valid()).Header("X-Client-Kind", "service"));
        add("client kind empty", invalid, () => Api(Valid()).Header("X-Client-Kind", ""));
        add("client kind 10 kB", invalid, () => Api(Valid()).Header("X-Client-Kind", new string('w', 10 * 1024)));
        add("client kind with NUL", Outcome.Server(400), () => Api(Valid()).Header("X-Client-Kind", "web\0"));
        add("client kind in capitals (case-insensitive)", Outcome.Forwarded, () => Api(Valid()).Header("X-Client-Kind", "MOBILE"));
        add("device header of 20 kB", invalid, () => new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("X-Device-Id", new string('d', 20 * 1024)));
        add("device header of 60 kB", Outcome.Server(431), () => new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("X-Device-Id", new string('d', 60 * 1024)));
        add("unrelated header of 60 kB", Outcome.Server(431), () => Api(Valid()).Header("X-Junk", new string('j', 60 * 1024)));
        add("unrelated header of 20 kB is forwarded", Outcome.Forwarded, () => Api(Valid()).Header("X-Junk", new string('j', 20 * 1024)));
        add("101 headers", Outcome.Server(431), () =>
        {
            var r = Api(Valid());
            for (var i = 0; i < 101; i++) r.Header("X-Junk-" + i, "1");
            return r;
        });
        add("UTF-8 in an unrelated header is forwarded", Outcome.Forwarded, () => Api(Valid()).Header("X-Note", "caf\u00e9 \ud83d\ude00"));
        add("UTF-8 cookie of a browser is forwarded", Outcome.Forwarded, () => Api(Valid()).Header("Cookie", "pref=caf\u00e9"));
        add("UTF-8 header on an Off route is forwarded", Outcome.PassedThrough, () => new RawRequest("GET", "/open/hostile").Header("Cookie", "pref=caf\u00e9"));
        add("forged X-Licensing headers in every case", Outcome.Forwarded, () => Api(Valid())
            .Header("X-Licensing-Session", "forged").Header("x-licensing-tenant", Victim).Header("X-LICENSING-SESSION", "forged-2").Header("X-Licensing-", "x"));
        add("User-Agent of 10 kB, no device header (fingerprint)", Outcome.Forwarded, () =>
            new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("User-Agent", new string('u', 10 * 1024)));
        add("User-Agent with emoji, no device header (fingerprint)", Outcome.Forwarded, () =>
            new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("User-Agent", "Mozilla/5.0 \ud83d\ude00"));
        add("X-Forwarded-For garbage from an untrusted peer", Outcome.Forwarded, () =>
            new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("X-Forwarded-For", "{victim}, 999.1.1.1, ::zz, " + new string('9', 2000)));
        add("device cookie of a browser, 10 kB", invalid, () =>
            new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("User-Agent", "Mozilla/5.0").Header("Cookie", "seat-device=" + new string('c', 10 * 1024)));
        add("device cookie of a browser, twice with different values", Outcome.Forwarded, () =>
            new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("User-Agent", "Mozilla/5.0").Header("Cookie", "seat-device=c1; seat-device=c2"));
        add("Host header twice", Outcome.Server(400), () => Api(Valid()).Header("Host", "other"));
        add("Host header with braces", Outcome.Server(400), () => new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("X-Device-Id", "d1").Header("Host", "{victim}"));
        add("Content-Length not a number", Outcome.Server(400), () => Api(Valid()).Header("Content-Length", "abc"));
        add("header name with a space", Outcome.Server(400), () => Api(Valid()).Header("X Device Id", "d1"));
        add("header name with UTF-8", Outcome.Server(400), () => Api(Valid()).Header("X-D\u00e9vice", "d1"));
    }

    // ---- hostile ids: device header, device / user / client id / tenant claims, management paths ----

    private static void IdsInHeadersAndClaims(Action<string, Outcome, Func<RawRequest>> add)
    {
        foreach (var (name, value) in Alphabet)
        {
            add($"device header: {name}", DeviceHeaderOutcome(value), () => new RawRequest("GET", "/api/hostile").Bearer(Valid()).Header("X-Device-Id", value));
            AddClaims(add, name, value);
            AddPaths(add, name, value);
        }
        foreach (var (name, value) in ClaimOnlyAlphabet) AddClaims(add, name, value);

        // Tenant ids are case-sensitive: a case variant of a licensed tenant is another, unlicensed tenant.
        add("tenant claim: HOSTILE (case variant)", Outcome.Problem(403, "tenant-unlicensed"), () => Api(TestTokens.User("HOSTILE", User)));
        add("tenant claim: Hostile (case variant)", Outcome.Problem(403, "tenant-unlicensed"), () => Api(TestTokens.User("Hostile", User)));
        add("tenant claim: absent", Outcome.Problem(403, "identity-incomplete"), () => Api(TestTokens.User(null, User)));
        add("user claims: none", Outcome.Problem(403, "identity-incomplete"), () => Api(TestTokens.User(Tenant, null)));
    }

    private static void AddClaims(Action<string, Outcome, Func<RawRequest>> add, string name, string value)
    {
        add($"device claim: {name}", IdOracle.IsId(value) ? Outcome.Forwarded : Outcome.InvalidIdentity,
            () => Api(TestTokens.User(Tenant, User, ("did", value))));
        add($"user claim: {name}", IdOracle.IsId(value) ? Outcome.Forwarded : Outcome.InvalidIdentity,
            () => Api(TestTokens.User(Tenant, value)));
        add($"client id claim: {name}", IdOracle.IsId(value) ? Outcome.Forwarded : Outcome.InvalidIdentity,
            () => Api(TestTokens.Service(Tenant, value)));
        add($"tenant claim: {name}", TenantClaimOutcome(value), () => Api(TestTokens.User(value, User)));
    }

    public static Outcome DeviceHeaderOutcome(string value)
    {
        if (IdOracle.BreaksHeaderSyntax(value)) return Outcome.Server(400);
        var seen = IdOracle.AsHeaderValue(value);
        // An empty header is no device: the next source (the fingerprint) applies.
        if (seen.Length == 0) return Outcome.Forwarded;
        return IdOracle.IsId(seen) ? Outcome.Forwarded : Outcome.InvalidIdentity;
    }

    public static Outcome TenantClaimOutcome(string value) =>
        !IdOracle.IsTenant(value) ? Outcome.InvalidIdentity
        : value == Tenant ? Outcome.Forwarded
        : Outcome.Problem(403, "tenant-unlicensed");

    /// <summary>The tenant and user of the management paths, percent-encoded as a client must.</summary>
    private static void AddPaths(Action<string, Outcome, Func<RawRequest>> add, string name, string value)
    {
        var escaped = Uri.EscapeDataString(value);

        var tenantTarget = "tenants/" + escaped;
        add($"management tenant path: {name}", PathOutcome("GET", tenantTarget, value, tenant: true), () => Mgmt("GET", tenantTarget, Operator()));

        var userTarget = $"tenants/{Managed}/users/{escaped}";
        add($"management user path: {name}", PathOutcome("PUT", userTarget, value, tenant: false),
            () => Mgmt("PUT", userTarget, Operator(), """{"active":false}"""));
    }

    private static Outcome PathOutcome(string method, string target, string value, bool tenant)
    {
        if (IdOracle.RequestLineTooLong(method, "/_licensing/v1/" + target)) return Outcome.Server(414);
        if (value.Contains('\0')) return Outcome.Server(400); // Kestrel refuses %00 in a path
        // No segment: "tenants/" is the operator's tenant list; "users/" names no user route.
        if (value.Length == 0) return tenant ? Outcome.Read : Outcome.NotFound;
        if (tenant) return !IdOracle.IsTenant(value) ? Outcome.InvalidRequest : Outcome.Problem(404, "tenant-not-found");
        return IdOracle.IsId(value) ? Outcome.Applied(201, Managed) : Outcome.InvalidRequest;
    }

    // ---- claims of the wrong JSON type --------------------------------------------------------

    private static void ClaimTypes(Action<string, Outcome, Func<RawRequest>> add)
    {
        var obj = new Dictionary<string, object> { ["id"] = "alice" };
        object[] nested = [new[] { "alice" }];
        var challenge = Outcome.Challenge;
        var invalid = Outcome.InvalidIdentity;

        // sub is a registered claim (RFC 7519: a string); the token handler itself refuses other shapes.
        add("sub as an object", challenge, () => Api(TestTokens.User(Tenant, null, ("sub", obj))));
        add("sub as a nested array", challenge, () => Api(TestTokens.User(Tenant, null, ("sub", nested))));
        add("sub as an array of two", challenge, () => Api(TestTokens.User(Tenant, null, ("sub", new[] { "alice", "bob" }))));
        add("sub as an array of one", challenge, () => Api(TestTokens.User(Tenant, null, ("sub", new[] { "alice" }))));
        add("sub as an empty array", challenge, () => Api(TestTokens.User(Tenant, null, ("sub", Array.Empty<string>()))));
        // Numbers and booleans are taken as their JSON text (numeric user ids exist).
        add("sub as a number", Outcome.Forwarded, () => Api(TestTokens.User(Tenant, null, ("sub", 42))));
        add("sub as a huge number", Outcome.Forwarded, () => Api(TestTokens.User(Tenant, null, ("sub", 1e300))));
        add("sub as a boolean", challenge, () => Api(TestTokens.User(Tenant, null, ("sub", true))));

        add("tid as an object", invalid, () => Api(TestTokens.User(null, User, ("tid", obj))));
        add("tid as a nested array", invalid, () => Api(TestTokens.User(null, User, ("tid", new object[] { new[] { Tenant } }))));
        add("tid as an array of two", invalid, () => Api(TestTokens.User(null, User, ("tid", new[] { Tenant, Victim }))));
        add("tid as an array of one", Outcome.Forwarded, () => Api(TestTokens.User(null, User, ("tid", new[] { Tenant }))));
        add("tid as an array of the same tenant twice", Outcome.Forwarded, () => Api(TestTokens.User(null, User, ("tid", new[] { Tenant, Tenant }))));
        add("tid as a number", Outcome.Problem(403, "tenant-unlicensed"), () => Api(TestTokens.User(null, User, ("tid", 42))));
        add("tid as null", invalid, () => Api(TestTokens.User(null, User, ("tid", null!))));
        add("tid as an empty array", Outcome.Problem(403, "identity-incomplete"), () => Api(TestTokens.User(null, User, ("tid", Array.Empty<string>()))));

        add("client_id as an object", invalid, () => Api(TestTokens.User(Tenant, null, ("client_id", obj))));
        add("client_id as a nested array", invalid, () => Api(TestTokens.User(Tenant, null, ("client_id", nested))));
        add("client_id as an array of two", invalid, () => Api(TestTokens.User(Tenant, null, ("client_id", new[] { "a", "b" }))));
        add("client_id as null", invalid, () => Api(TestTokens.User(Tenant, null, ("client_id", null!))));
        add("client_id as a number", Outcome.Forwarded, () => Api(TestTokens.User(Tenant, null, ("client_id", 7))));

        add("did as an object", invalid, () => Api(TestTokens.User(Tenant, User, ("did", obj))));
        add("did as a nested array", invalid, () => Api(TestTokens.User(Tenant, User, ("did", nested))));
        add("did as an array of two", invalid, () => Api(TestTokens.User(Tenant, User, ("did", new[] { "d1", "d2" }))));
        add("did as null", invalid, () => Api(TestTokens.User(Tenant, User, ("did", null!))));
        add("did as a number", Outcome.Forwarded, () => Api(TestTokens.User(Tenant, User, ("did", 12345))));
        add("sid as an object (next device source)", invalid, () =>
            new RawRequest("GET", "/api/hostile").Bearer(TestTokens.User(Tenant, User, ("sid", obj))));

        // The management API reads tenant and user the same way.
        add("me: tid as an object", Outcome.Problem(400, "invalid-identity"), () => Mgmt("GET", "me/sessions", TestTokens.User(null, User, ("tid", obj))));
        add("me: client_id as a nested array", Outcome.Problem(400, "invalid-identity"), () => Mgmt("GET", "me/sessions", TestTokens.User(Managed, null, ("client_id", nested))));
        add("admin: tid as an object administers nothing", Outcome.Problem(403, "forbidden"), () =>
            Mgmt("GET", $"tenants/{Managed}", TestTokens.User(null, "frank", ("tid", new Dictionary<string, object> { ["t"] = Managed }), ("role", ManagementCaller.AdminRole))));
        add("admin: role as an object", Outcome.Problem(403, "forbidden"), () =>
            Mgmt("GET", $"tenants/{Managed}", TestTokens.User(Managed, "frank", ("role", new Dictionary<string, object> { ["r"] = ManagementCaller.OperatorRole }))));
        add("admin: role with a trailing space", Outcome.Problem(403, "forbidden"), () =>
            Mgmt("GET", $"tenants/{Victim}", TestTokens.User(Managed, "frank", ("role", ManagementCaller.OperatorRole + " "))));
        add("admin: role in capitals", Outcome.Problem(403, "forbidden"), () =>
            Mgmt("GET", $"tenants/{Victim}", TestTokens.User(Managed, "frank", ("role", ManagementCaller.OperatorRole.ToUpperInvariant()))));
        add("admin: role with a NUL", Outcome.Problem(403, "forbidden"), () =>
            Mgmt("GET", $"tenants/{Victim}", TestTokens.User(Managed, "frank", ("role", ManagementCaller.OperatorRole + "\0"))));
        add("admin: role as a nested array", Outcome.Problem(403, "forbidden"), () =>
            Mgmt("GET", $"tenants/{Victim}", TestTokens.User(Managed, "frank", ("role", new object[] { new[] { ManagementCaller.OperatorRole } }))));
    }

    // ---- management bodies ----------------------------------------------------------------------

    private static void ManagementBodies(Action<string, Outcome, Func<RawRequest>> add)
    {
        var bad = Outcome.InvalidRequest;
        var plan = $"tenants/{Managed}";
        void Plan(string name, string body) => add("plan body: " + name, bad, () => Mgmt("PUT", plan, Operator(), body));
        Plan("seatLimit 1e9 as an integer", """{"model":"RegisteredUsers","seatLimit":1000000000}""");
        Plan("seatLimit 1e9 in exponent form", """{"model":"RegisteredUsers","seatLimit":1e9}""");
        Plan("seatLimit 5 in exponent form", """{"model":"RegisteredUsers","seatLimit":5e0}""");
        Plan("seatLimit 5.0", """{"model":"RegisteredUsers","seatLimit":5.0}""");
        Plan("seatLimit 4.999999999999999999", """{"model":"RegisteredUsers","seatLimit":4.999999999999999999}""");
        Plan("seatLimit negative", """{"model":"RegisteredUsers","seatLimit":-5}""");
        Plan("seatLimit minus zero", """{"model":"RegisteredUsers","seatLimit":-0}""");
        Plan("seatLimit int.MaxValue", """{"model":"RegisteredUsers","seatLimit":2147483647}""");
        Plan("seatLimit 1e400", """{"model":"RegisteredUsers","seatLimit":1e400}""");
        Plan("seatLimit 20 digits", """{"model":"RegisteredUsers","seatLimit":99999999999999999999}""");
        Plan("seatLimit NaN", """{"model":"RegisteredUsers","seatLimit":NaN}""");
        Plan("seatLimit as hex", """{"model":"RegisteredUsers","seatLimit":0x10}""");
        Plan("seatLimit as a string", """{"model":"RegisteredUsers","seatLimit":"5"}""");
        Plan("seatLimit as an array", """{"model":"RegisteredUsers","seatLimit":[5]}""");
        Plan("seatLimit as an object", """{"model":"RegisteredUsers","seatLimit":{"value":5}}""");
        Plan("seatLimit null", """{"model":"RegisteredUsers","seatLimit":null}""");
        Plan("model as a number", """{"model":1,"seatLimit":5}""");
        Plan("model as an array", """{"model":["RegisteredUsers"],"seatLimit":5}""");
        Plan("model with a NUL", """{"model":"RegisteredUsers\u0000","seatLimit":5}""");
        Plan("model of 1 MB", $$"""{"model":"{{new string('R', 1024 * 1024)}}","seatLimit":5}""");
        Plan("member name of 1 MB", $$"""{"{{new string('m', 1024 * 1024)}}":1,"model":"RegisteredUsers","seatLimit":5}""");
        Plan("model twice", """{"model":"ConcurrentSessions","model":"RegisteredUsers","seatLimit":5}""");
        Plan("seatLimit twice", """{"model":"RegisteredUsers","seatLimit":5,"seatLimit":5}""");
        Plan("reservedUsers twice", """{"model":"ConcurrentSessions","seatLimit":5,"reservedUsers":[],"reservedUsers":["a"]}""");
        Plan("reservedUsers with a number", """{"model":"ConcurrentSessions","seatLimit":5,"reservedUsers":[1]}""");
        Plan("reservedUsers with an object", """{"model":"ConcurrentSessions","seatLimit":5,"reservedUsers":[{"userId":"a"}]}""");
        Plan("reservedUsers with a lone surrogate", """{"model":"ConcurrentSessions","seatLimit":5,"reservedUsers":["a\ud800"]}""");
        Plan("reservedUsers null member inside", """{"model":"ConcurrentSessions","seatLimit":5,"reservedUsers":["a",null]}""");
        Plan("reservedUsers 300000 users (3 MB)", JsonSerializer.Serialize(new
        {
            model = "ConcurrentSessions", seatLimit = 5, reservedUsers = Enumerable.Range(0, 300_000).Select(i => "u" + i),
        }));
        Plan("reservedUsers 1000000 numbers", """{"model":"ConcurrentSessions","seatLimit":5,"reservedUsers":[""" + string.Join(',', Enumerable.Repeat("0", 1_000_000)) + "]}");
        Plan("array 10000 deep", new string('[', 10_000) + new string(']', 10_000));
        Plan("object 10000 deep", string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000));
        Plan("reservedUsers 10000 deep", """{"model":"ConcurrentSessions","seatLimit":5,"reservedUsers":""" + new string('[', 10_000) + new string(']', 10_000) + "}");
        Plan("unclosed 100000 deep", new string('[', 100_000));
        Plan("only whitespace", new string(' ', 1000));
        Plan("a JSON string", "\"RegisteredUsers\"");
        Plan("JSON null", "null");
        add("plan body: over 4 MiB", bad, () => Mgmt("PUT", plan, Operator(), "{\"reservedUsers\":[" + new string(' ', 5 * 1024 * 1024) + "]}"));
        add("plan body: configured tenant", Outcome.Problem(409, "plan-managed-by-config"),
            () => Mgmt("PUT", $"tenants/{Tenant}", Operator(), """{"model":"ConcurrentSessions","seatLimit":1}"""));

        // Invalid UTF-8, raw bytes.
        byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        void Bytes(string name, string method, string path, byte[] body) => add("utf-8: " + name, bad, () => MgmtBytes(method, path, body));
        Bytes("0xFF in a member name", "PUT", $"tenants/{Managed}/users/bob", [.. Utf8("{\"active\":false,\""), 0xFF, 0xFE, .. Utf8("\":1}")]);
        Bytes("overlong '/' in a user id", "PATCH", $"tenants/{Managed}/users", [.. Utf8("{\"users\":[{\"userId\":\"a"), 0xC0, 0xAF, .. Utf8("\",\"active\":false}]}")]);
        Bytes("lone continuation byte in a user id", "POST", $"tenants/{Managed}/users/swap", [.. Utf8("{\"deactivate\":\"alice\",\"activate\":\"b"), 0x80, .. Utf8("\"}")]);
        Bytes("truncated sequence at the end of a string", "PUT", plan, [.. Utf8("{\"model\":\"RegisteredUsers"), 0xE2, 0x82, .. Utf8("\",\"seatLimit\":5}")]);
        Bytes("encoded surrogate (CESU-8)", "PUT", plan, [.. Utf8("{\"model\":\"Registered"), 0xED, 0xA0, 0x80, .. Utf8("Users\",\"seatLimit\":5}")]);
        Bytes("Latin-1 é in a user id", "PATCH", $"tenants/{Managed}/users", [.. Utf8("{\"users\":[{\"userId\":\"caf"), 0xE9, .. Utf8("\",\"active\":false}]}")]);
        Bytes("UTF-16 body", "PUT", $"tenants/{Managed}/users/bob", Encoding.Unicode.GetBytes("{\"active\":false}"));
        Bytes("UTF-8 BOM then a bad body", "PUT", $"tenants/{Managed}/users/bob", [0xEF, 0xBB, 0xBF, .. Utf8("{\"active\":0}")]);
        Bytes("NUL bytes", "PUT", $"tenants/{Managed}/users/bob", [.. Utf8("{\"active\":"), 0, .. Utf8("false}")]);

        // Users: bulk, single, swap.
        var users = $"tenants/{Managed}/users";
        void Users(string name, string body) => add("bulk body: " + name, bad, () => Mgmt("PATCH", users, Operator(), body));
        Users("100000 users", JsonSerializer.Serialize(new { users = Enumerable.Range(0, 100_000).Select(i => new { userId = "u" + i, active = false }) }));
        Users("users twice", """{"users":[{"userId":"a","active":false}],"users":[{"userId":"b","active":false}]}""");
        Users("userId twice in one item", """{"users":[{"userId":"a","userId":"b","active":false}]}""");
        Users("active as 1e9", """{"users":[{"userId":"a","active":1e9}]}""");
        Users("active as a string", """{"users":[{"userId":"a","active":"false"}]}""");
        Users("userId as a number", """{"users":[{"userId":42,"active":false}]}""");
        Users("userId as an object", """{"users":[{"userId":{"id":"a"},"active":false}]}""");
        Users("users as an object", """{"users":{"userId":"a","active":false}}""");
        Users("users 10000 deep", "{\"users\":" + new string('[', 10_000) + new string(']', 10_000) + "}");
        void One(string name, string body) => add("user body: " + name, bad, () => Mgmt("PUT", $"tenants/{Managed}/users/bob", Operator(), body));
        One("active twice", """{"active":false,"active":true}""");
        One("active null", """{"active":null}""");
        One("active as 0", """{"active":0}""");
        One("active as an array", """{"active":[true]}""");
        One("active 10000 deep", "{\"active\":" + new string('[', 10_000) + new string(']', 10_000) + "}");
        void Swap(string name, string body) => add("swap body: " + name, bad, () => Mgmt("POST", $"tenants/{Managed}/users/swap", Operator(), body));
        Swap("numbers", """{"deactivate":1,"activate":2}""");
        Swap("nulls", """{"deactivate":null,"activate":null}""");
        Swap("objects", """{"deactivate":{"u":"alice"},"activate":{"u":"bob"}}""");
        Swap("activate twice", """{"deactivate":"alice","activate":"bob","activate":"carol"}""");
        Swap("10 kB ids", $$"""{"deactivate":"alice","activate":"{{new string('b', 10 * 1024)}}"}""");
        Swap("key-like ids of another tenant", """{"deactivate":"alice","activate":"lic:{victim}:active\u0000"}""");
    }

    // ---- management paths and queries -----------------------------------------------------------

    private static void ManagementPaths(Action<string, Outcome, Func<RawRequest>> add)
    {
        var bad = Outcome.InvalidRequest;
        RawRequest Get(string target, string? token = null) => new RawRequest("GET", target).Bearer(token ?? Operator());
        add("path: encoded slashes in the tenant", bad, () => Get($"/_licensing/v1/tenants/{Managed}%2F..%2F{Victim}"));
        add("path: encoded slash and dots as the tenant", bad, () => Get("/_licensing/v1/tenants/..%2F" + Victim));
        add("path: backslashes in the tenant", bad, () => Get($"/_licensing/v1/tenants/{Managed}\\..\\{Victim}"));
        add("path: a bare % as the tenant", bad, () => Get("/_licensing/v1/tenants/%"));
        add("path: %zz as the tenant", bad, () => Get("/_licensing/v1/tenants/%zz"));
        add("path: tenant with a trailing %20", bad, () => Get($"/_licensing/v1/tenants/{Managed}%20"));
        add("path: tenant with a ;parameter", bad, () => Get($"/_licensing/v1/tenants/{Managed};v=1"));
        add("path: NUL in the tenant", Outcome.Server(400), () => Get($"/_licensing/v1/tenants/{Managed}%00"));
        add("path: raw UTF-8 in the target", Outcome.Server(400), () => Get("/_licensing/v1/tenants/caf\u00e9"));
        add("path: raw space in the target", Outcome.Server(400), () => Get($"/_licensing/v1/tenants/{Managed} x"));
        add("path: request target of 10 kB", Outcome.Server(414), () => Get("/_licensing/v1/tenants/" + new string('t', 10 * 1024)));
        add("path: absolute-form target with another host", Outcome.Server(400), () => Get($"http://evil.test/_licensing/v1/tenants/{Managed}"));
        add("path: asterisk-form target", Outcome.Server(405), () => Get("*"));
        add("path: double slash", Outcome.NotFound, () => Get($"/_licensing//v1/tenants/{Managed}"));
        add("path: dot segments up to the management path", Outcome.NotFound, () => Get("/_licensing/v1/tenants/%2E%2E/%2E%2E/x"));
        // Leaving the management path by dot segments lands on an enforced proxy route: still enforced.
        add("path: dot segments out of the management path into the proxy", Outcome.Problem(403, "tenant-unlicensed"),
            () => Get("/_licensing/v1/%2E%2E/%2E%2E/api/hostile"));
        add("path: unknown method", Outcome.NotFound, () => new RawRequest("FOO", $"/_licensing/v1/tenants/{Managed}").Bearer(Operator()));
        add("path: DELETE a tenant (no such route)", Outcome.NotFound, () => new RawRequest("DELETE", $"/_licensing/v1/tenants/{Managed}").Bearer(Operator()));
        add("path: dot segment after a user id", bad, () => Mgmt("PUT", $"tenants/{Managed}/users/bob/.", Operator(), """{"active":false}"""));
        add("path: dot-dot segment after a user id", bad, () => Mgmt("PUT", $"tenants/{Managed}/users/bob/x/..", Operator(), """{"active":false}"""));
        add("path: encoded dot segment after a user id", bad, () => Mgmt("PUT", $"tenants/{Managed}/users/bob/%2e", Operator(), """{"active":false}"""));
        add("path: user id of 5 kB", bad, () => Mgmt("PUT", $"tenants/{Managed}/users/" + new string('u', 5 * 1024), Operator(), """{"active":false}"""));
        add("path: tenant of 5 kB", bad, () => Get("/_licensing/v1/tenants/" + new string('t', 5 * 1024)));

        var sessions = $"tenants/{Managed}/sessions/";
        var gone = Outcome.Problem(404, "session-not-found");
        add("session id: encoded slashes", gone, () => Mgmt("DELETE", sessions + "..%2F..%2F" + Victim, Operator()));
        add("session id: 5 kB", gone, () => Mgmt("DELETE", sessions + new string('A', 5 * 1024), Operator()));
        add("session id: 22 characters with a glob", gone, () => Mgmt("DELETE", sessions + "AAAAAAAAAAAAAAAAAAAAA*", Operator()));
        add("session id: current (tenant route)", gone, () => Mgmt("DELETE", sessions + "current", Operator()));
        add("me session id: encoded glob", gone, () => Mgmt("DELETE", "me/sessions/%2A", TestTokens.User(Managed, User)));
        add("me current: hostile device header", gone, () => Mgmt("DELETE", "me/sessions/current", TestTokens.User(Managed, User)).Header("X-Device-Id", "caf\u00e9"));
        add("me current: device header twice", gone, () => Mgmt("DELETE", "me/sessions/current", TestTokens.User(Managed, User)).Header("X-Device-Id", "a").Header("X-Device-Id", "b"));

        add("query: limit 1e9", bad, () => Mgmt("GET", $"tenants/{Managed}/users?limit=1000000000", Operator()));
        add("query: limit twice", bad, () => Mgmt("GET", $"tenants/{Managed}/users?limit=1&limit=2", Operator()));
        add("query: active twice", bad, () => Mgmt("GET", $"tenants/{Managed}/users?active=true&active=false", Operator()));
        add("query: cursor of 6 kB", bad, () => Mgmt("GET", $"tenants/{Managed}/users?cursor=" + new string('A', 6 * 1024), Operator()));
        add("query: cursor decoding to a NUL", bad, () => Mgmt("GET", $"tenants/{Managed}/users?cursor=AA", Operator()));
        add("query: audit since far in the future", bad, () => Mgmt("GET", $"tenants/{Managed}/audit?since=99999-01-01", Operator()));
        add("query: usage of 10000 years", bad, () => Mgmt("GET", $"tenants/{Managed}/usage?from=0001-01-01&to=9999-12-31", Operator()));
        add("query: sessions of a key-like user", Outcome.Problem(400, "invalid-request"), () => Mgmt("GET", $"tenants/{Managed}/sessions?userId=%00", Operator()));

        // Cross-tenant attempts by an admin of mgmt (the Security tests cover every route).
        var forbidden = Outcome.Problem(403, "forbidden");
        add("admin: another tenant", forbidden, () => Get($"/_licensing/v1/tenants/{Victim}", AdminOf(Managed)));
        add("admin: another tenant by dot segments", forbidden, () => Get($"/_licensing/v1/tenants/{Managed}/../{Victim}", AdminOf(Managed)));
        add("admin: another tenant by encoded dot segments", forbidden, () => Get($"/_licensing/v1/tenants/{Managed}/%2E%2E/{Victim}/users", AdminOf(Managed)));
        add("admin: own tenant in capitals", forbidden, () => Get("/_licensing/v1/tenants/MGMT", AdminOf(Managed)));
        add("admin: own tenant with encoded slashes", forbidden, () => Get($"/_licensing/v1/tenants/{Managed}%2F..%2F{Victim}", AdminOf(Managed)));
        add("admin: plan change of its own tenant", forbidden, () => Mgmt("PUT", $"tenants/{Managed}", AdminOf(Managed), """{"model":"RegisteredUsers","seatLimit":1000}"""));
    }
}
