using System.Security.Claims;
using System.Text.Json;
using Gateway.Authentication;
using Gateway.Identity;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Support;
using Gateway.Management;
using Gateway.Proxy;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Gateway.Tests.Proxy;

/// <summary>
/// The licensing step alone, on a <see cref="DefaultHttpContext"/>: a stand-in admitter decides, a
/// stand-in authentication service names the caller, and the test reads what the step forwarded
/// (the request given to the next step) or answered (status, headers, problem body).
/// </summary>
public sealed class SeatLicensingMiddlewareTests : IDisposable
{
    private const string SessionId = "s-0123456789abcdef";

    private readonly StaticOptionsMonitor<LicensingOptions> _options = new(new LicensingOptions());
    private readonly FakeTimeProvider _time = new();
    private readonly StandInAdmitter _admitter = new();
    private readonly LocalSessionCache _cache = new();
    // The tracker's store parts are never started here: nothing is sent to this address.
    private readonly ConnectionMultiplexer _nowhere = ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=200");
    private readonly SessionUseTracker _uses;
    private readonly SeatLicensingMiddleware _middleware;
    private HttpContext? _forwarded;

    public SeatLicensingMiddlewareTests()
    {
        var health = new StoreHealth();
        var store = new LicenseStore(_nowhere, _options, []);
        var touches = new TouchBatcher(store, _cache, health, _time, _options, NullLogger<TouchBatcher>.Instance);
        var revocations = new RevocationBus(_cache, _nowhere, _time, NullLogger<RevocationBus>.Instance);
        _uses = new SessionUseTracker(_cache, touches, revocations, health, _options, _time, NullLogger<SessionUseTracker>.Instance);
        _middleware = new SeatLicensingMiddleware(
            context => { _forwarded = context; return Task.CompletedTask; },
            _admitter,
            _uses,
            new IdentityResolver(_options),
            new CachedBearerTokens(new StaticOptionsMonitor<JwtBearerOptions>(new JwtBearerOptions())),
            new ManagementPath(_options),
            NullLogger<SeatLicensingMiddleware>.Instance);
    }

    public void Dispose() => _nowhere.Dispose();

    [Fact]
    public async Task An_Off_route_is_forwarded_without_a_caller_or_a_seat()
    {
        var context = Request(LicensingMode.Off, caller: null);
        context.Request.Headers["X-Licensing-Session"] = "forged";

        await _middleware.InvokeAsync(context);

        Assert.Same(context, _forwarded);
        Assert.Empty(_admitter.Asked);
        Assert.False(context.Request.Headers.ContainsKey("X-Licensing-Session"));
        Assert.False(context.Request.Headers.ContainsKey("X-Licensing-Tenant"));
    }

    [Fact]
    public async Task A_request_without_a_bearer_token_is_challenged()
    {
        var context = Request(LicensingMode.Enforce, caller: null);

        await _middleware.InvokeAsync(context);

        Assert.Null(_forwarded);
        Assert.Empty(_admitter.Asked);
        await AssertProblemAsync(context, StatusCodes.Status401Unauthorized, "token-missing");
        Assert.Equal("Bearer", context.Response.Headers.WWWAuthenticate.ToString());
    }

    [Theory]
    [InlineData("not a tenant!", "alice", null, StatusCodes.Status400BadRequest, "invalid-identity")]
    [InlineData("acme", null, null, StatusCodes.Status403Forbidden, "identity-incomplete")]
    [InlineData("acme", "alice", "globex", StatusCodes.Status403Forbidden, "tenant-mismatch")]
    public async Task A_caller_without_a_valid_identity_gets_the_identity_problem(string tenant, string? user, string? routeTenant, int status, string code)
    {
        var context = Request(LicensingMode.Enforce, Caller(tenant, user), routeTenant);

        await _middleware.InvokeAsync(context);

        Assert.Null(_forwarded);
        Assert.Empty(_admitter.Asked);
        await AssertProblemAsync(context, status, code);
    }

    [Fact]
    public async Task An_admitted_request_is_forwarded_with_the_gateways_licensing_headers_only()
    {
        _admitter.Decide = identity => Admitted(identity);
        var context = Request(LicensingMode.Enforce, Caller("acme", "alice"));
        context.Request.Headers["X-Licensing-Tenant"] = "globex";
        context.Request.Headers["X_Licensing_Session"] = "forged";
        context.Request.Headers["x-licensing-shadow"] = "seats-exhausted";

        await _middleware.InvokeAsync(context);

        Assert.Same(context, _forwarded);
        var asked = Assert.Single(_admitter.Asked);
        Assert.Equal(("acme", "alice", "d1"), (asked.Tenant, asked.User, asked.Device));
        var headers = context.Request.Headers;
        Assert.Equal(SessionId, headers["X-Licensing-Session"].ToString());
        Assert.Equal("acme", headers["X-Licensing-Tenant"].ToString());
        Assert.False(headers.ContainsKey("X_Licensing_Session"));
        Assert.False(headers.ContainsKey("X-Licensing-Shadow"));
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
    }

    [Fact]
    public async Task A_route_tenant_is_the_forwarded_tenant()
    {
        _admitter.Decide = identity => Admitted(identity);
        var context = Request(LicensingMode.Enforce, Caller(tenant: null, "alice"), routeTenant: "acme");

        await _middleware.InvokeAsync(context);

        Assert.Same(context, _forwarded);
        Assert.Equal("acme", Assert.Single(_admitter.Asked).Tenant);
        Assert.Equal("acme", context.Request.Headers["X-Licensing-Tenant"].ToString());
    }

    [Fact]
    public async Task An_admission_that_completes_later_is_forwarded_the_same_way()
    {
        var decided = new TaskCompletionSource<AdmissionDecision>(TaskCreationOptions.RunContinuationsAsynchronously);
        _admitter.DecideLater = _ => new ValueTask<AdmissionDecision>(decided.Task);
        var context = Request(LicensingMode.Enforce, Caller("acme", "alice"));

        var step = _middleware.InvokeAsync(context);
        Assert.False(step.IsCompleted);
        Assert.Null(_forwarded);
        decided.SetResult(Admitted(Assert.Single(_admitter.Asked)));
        await step;

        Assert.Same(context, _forwarded);
        Assert.Equal(SessionId, context.Request.Headers["X-Licensing-Session"].ToString());
    }

    [Fact]
    public async Task A_session_admitted_in_shadow_mode_is_marked_with_what_enforcement_would_have_answered()
    {
        _admitter.Decide = identity => Admitted(identity) with { ShadowOf = AdmissionOutcome.SeatsExhausted };
        var context = Request(LicensingMode.Enforce, Caller("acme", "alice"));

        await _middleware.InvokeAsync(context);

        Assert.Same(context, _forwarded);
        Assert.Equal("seats-exhausted", context.Request.Headers["X-Licensing-Shadow"].ToString());
    }

    [Fact]
    public async Task A_forwarded_request_is_aborted_when_its_session_ends()
    {
        _admitter.Decide = identity => Admitted(identity);
        var context = Request(LicensingMode.Enforce, Caller("acme", "alice"));
        var lifetime = new AbortableLifetime();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);

        await _middleware.InvokeAsync(context);
        _cache.Ended(SessionId, _time.GetTimestamp());
        _uses.Pass();
        _time.Advance(SessionUseTracker.Grace + TimeSpan.FromMilliseconds(1));

        Assert.Equal(1, _uses.Pass());
        Assert.True(lifetime.Aborted);
    }

    [Theory]
    [InlineData(AdmissionOutcome.SeatsExhausted, StatusCodes.Status429TooManyRequests, "seats-exhausted", "7")]
    [InlineData(AdmissionOutcome.UserSessionsExhausted, StatusCodes.Status429TooManyRequests, "user-sessions-exhausted", null)]
    [InlineData(AdmissionOutcome.TenantUnlicensed, StatusCodes.Status403Forbidden, "tenant-unlicensed", null)]
    [InlineData(AdmissionOutcome.UserInactive, StatusCodes.Status403Forbidden, "user-inactive", null)]
    [InlineData(AdmissionOutcome.StoreUnavailable, StatusCodes.Status503ServiceUnavailable, "store-unavailable", "5")]
    public async Task A_refused_session_gets_its_problem(AdmissionOutcome outcome, int status, string code, string? retryAfter)
    {
        _admitter.Decide = identity => new AdmissionDecision(outcome, identity.ComputeSessionId(), new AdmissionResult
        {
            Outcome = outcome,
            SessionId = identity.ComputeSessionId(),
            SeatLimit = 3,
            ActiveSessions = 3,
            YourSessions = ["s-other"],
            RetryAfter = TimeSpan.FromSeconds(6.2),
        });
        var context = Request(LicensingMode.Enforce, Caller("acme", "alice"));

        await _middleware.InvokeAsync(context);

        Assert.Null(_forwarded);
        var problem = await AssertProblemAsync(context, status, code);
        Assert.Equal(retryAfter, context.Response.Headers.RetryAfter.Count == 0 ? null : context.Response.Headers.RetryAfter.ToString());
        if (outcome is AdmissionOutcome.SeatsExhausted or AdmissionOutcome.UserSessionsExhausted)
            Assert.Equal("s-other", Assert.Single(problem.GetProperty("yourSessions").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task A_store_outage_without_a_store_answer_is_503_with_retry_after()
    {
        _admitter.Decide = identity => new AdmissionDecision(AdmissionOutcome.StoreUnavailable, identity.ComputeSessionId(), null);
        var context = Request(LicensingMode.Enforce, Caller("acme", "alice"));

        await _middleware.InvokeAsync(context);

        Assert.Null(_forwarded);
        await AssertProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "store-unavailable");
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task A_path_under_the_management_path_is_never_forwarded()
    {
        var context = Request(LicensingMode.Off, caller: null, path: "/_licensing/v1/tenants");

        await _middleware.InvokeAsync(context);

        Assert.Null(_forwarded);
        await AssertProblemAsync(context, StatusCodes.Status404NotFound, "not-found");
    }

    [Fact]
    public async Task A_release_route_is_forwarded_without_admission_and_without_a_caller()
    {
        var withCaller = Request(LicensingMode.Release, Caller("acme", "alice"));
        await _middleware.InvokeAsync(withCaller);
        Assert.Same(withCaller, _forwarded);
        Assert.Equal("acme", withCaller.Request.Headers["X-Licensing-Tenant"].ToString());
        Assert.False(string.IsNullOrEmpty(withCaller.Request.Headers["X-Licensing-Session"].ToString()));

        _forwarded = null;
        var anonymous = Request(LicensingMode.Release, caller: null);
        await _middleware.InvokeAsync(anonymous);
        Assert.Same(anonymous, _forwarded);
        Assert.False(anonymous.Request.Headers.ContainsKey("X-Licensing-Session"));

        Assert.Empty(_admitter.Asked);
    }

    /// <summary>What the engine answers for a session it admitted: this replica now knows it.</summary>
    private AdmissionDecision Admitted(SessionIdentity identity) =>
        new(AdmissionOutcome.Admitted, SessionId, null) { Entry = _cache.Confirmed(identity.Tenant, SessionId, _time.GetTimestamp()) };

    private static ClaimsPrincipal Caller(string? tenant, string? user)
    {
        var claims = new List<Claim>();
        if (tenant is not null) claims.Add(new Claim("tid", tenant));
        if (user is not null) claims.Add(new Claim("sub", user));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "test"));
    }

    /// <summary>A request on a proxy route of <paramref name="mode"/>, from a caller JwtBearer accepted (or none).</summary>
    private static DefaultHttpContext Request(LicensingMode mode, ClaimsPrincipal? caller, string? routeTenant = null, string path = "/api/orders")
    {
        var services = new ServiceCollection()
            .AddSingleton<IAuthenticationService>(new StandInAuthentication(caller))
            .BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        context.Request.Headers["X-Device-Id"] = "d1";
        context.Request.Headers.UserAgent = "ErpDesktop/12.0";
        context.Response.Body = new MemoryStream();
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new RouteLicensing("api", mode, routeTenant)), "api"));
        return context;
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpContext context, int status, string code)
    {
        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType?.Split(';')[0]);
        context.Response.Body.Position = 0;
        var problem = (await JsonDocument.ParseAsync(context.Response.Body)).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>The engine's admitter as the step sees it: records who asked, answers what the test decided.</summary>
    private sealed class StandInAdmitter : ISessionAdmitter
    {
        public List<SessionIdentity> Asked { get; } = [];

        public Func<SessionIdentity, AdmissionDecision> Decide { get; set; } = _ => throw new InvalidOperationException("No admission expected.");

        public Func<SessionIdentity, ValueTask<AdmissionDecision>>? DecideLater { get; set; }

        public ValueTask<AdmissionDecision> AdmitAsync(SessionIdentity identity, string sessionId, long origin)
        {
            Assert.Equal(identity.ComputeSessionId(), sessionId);
            Asked.Add(identity);
            return DecideLater is { } later ? later(identity) : ValueTask.FromResult(Decide(identity));
        }

        public Task<bool> ReleaseAsync(SessionIdentity identity) => Task.FromResult(true);
    }

    /// <summary>JwtBearer as the step sees it: the caller, or no token (and its challenge).</summary>
    private sealed class StandInAuthentication(ClaimsPrincipal? caller) : IAuthenticationService
    {
        public Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string? scheme) =>
            Task.FromResult(caller is null ? AuthenticateResult.NoResult() : AuthenticateResult.Success(new AuthenticationTicket(caller, scheme!)));

        public Task ChallengeAsync(HttpContext context, string? scheme, AuthenticationProperties? properties)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Task.CompletedTask;
        }

        public Task ForbidAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => throw new NotSupportedException();

        public Task SignInAsync(HttpContext context, string? scheme, ClaimsPrincipal principal, AuthenticationProperties? properties) => throw new NotSupportedException();

        public Task SignOutAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => throw new NotSupportedException();
    }

    private sealed class AbortableLifetime : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get; set; }

        public bool Aborted { get; private set; }

        public void Abort() => Aborted = true;
    }
}
