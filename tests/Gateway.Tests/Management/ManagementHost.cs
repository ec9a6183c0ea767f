using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Gateway.Licensing;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Management;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Gateway.Licensing.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.Tests.Management;

/// <summary>
/// A minimal host of the management API for tests: TestServer, JwtBearer with a test HS256 key
/// (<c>MapInboundClaims=false</c>), the licensing engine on a real Redis, and the management
/// extensions exactly as the gateway host maps them.
/// </summary>
public sealed class ManagementHost : IAsyncDisposable
{
    public const string Path = "/_licensing";
    private const string Issuer = "https://issuer.test";
    private const string Audience = "seat-gateway";
    private static readonly SymmetricSecurityKey Key = new(Encoding.UTF8.GetBytes("management-tests-signing-key-0123456789abcdef"));

    private readonly WebApplication _app;

    private ManagementHost(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public LicenseStore Store => Services.GetRequiredService<LicenseStore>();

    public LicenseQueries Queries => Services.GetRequiredService<LicenseQueries>();

    public static async Task<ManagementHost> StartAsync(
        IConnectionMultiplexer connection,
        string environment = "Development",
        Action<LicensingOptions>? configure = null,
        Action<WebApplication>? beforeMapping = null,
        bool kestrel = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        // TestServer by default; real Kestrel on a free loopback port where its request handling matters.
        if (kestrel) builder.WebHost.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, 0));
        else builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(connection);
        builder.Services.Configure<LicensingOptions>(o => configure?.Invoke(o));
        builder.Services.AddLicensingEngine();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = Issuer,
                ValidAudience = Audience,
                IssuerSigningKey = Key,
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            };
        });
        builder.Services.AddLicensingManagementApi();
        builder.Services.AddSingleton<ICurrentSessionResolver, HeaderSessionResolver>();
        var app = builder.Build();
        beforeMapping?.Invoke(app);
        // The host's pipeline order (UseSeatGateway): routing, authentication, authorization, endpoints.
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapLicensingManagementApi(Path);
        app.MapLicensingOpenApi(Path);
        await app.StartAsync();
        var client = kestrel
            ? new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) }
            : app.GetTestClient();
        return new ManagementHost(app, client);
    }

    /// <summary>A signed token; <paramref name="roles"/> go into the <c>role</c> claim as a JSON array.</summary>
    public static string Token(string? tenant, string? user, params string[] roles) => Token(tenant, user, roles, null);

    public static string Token(string? tenant, string? user, string[] roles, IDictionary<string, object>? extra)
    {
        var claims = new Dictionary<string, object>();
        if (tenant is not null) claims["tid"] = tenant;
        if (user is not null) claims["sub"] = user;
        if (roles.Length > 0) claims["role"] = roles;
        if (extra is not null) foreach (var (k, v) in extra) claims[k] = v;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        });
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? body = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path.StartsWith('/') ? path : Path + "/v1/" + path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        configure?.Invoke(request);
        return await Client.SendAsync(request);
    }

    public async Task<JsonElement> JsonAsync(HttpMethod method, string path, string? token, string? body = null)
    {
        using var response = await SendAsync(method, path, token, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Resolves the current session from the token and the X-Client-Kind / X-Device-Id headers.</summary>
    private sealed class HeaderSessionResolver : ICurrentSessionResolver
    {
        public SessionIdentity? Resolve(HttpContext context)
        {
            var tenant = context.User.FindFirst("tid")?.Value;
            var user = context.User.FindFirst("sub")?.Value;
            var device = context.Request.Headers["X-Device-Id"].ToString();
            if (tenant is null || user is null || device.Length == 0) return null;
            var kind = ClientKindNames.TryParseDeclared(context.Request.Headers["X-Client-Kind"].ToString(), out var k) ? k : ClientKind.Desktop;
            return new SessionIdentity(tenant, user, kind, device);
        }
    }
}

/// <summary>One Redis and one management host for every management test (run one at a time).</summary>
public sealed class ManagementFixture : IAsyncLifetime
{
    private static int _counter;

    public RedisServerFixture Redis { get; } = new();

    public ManagementHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Redis.InitializeAsync();
        Host = await ManagementHost.StartAsync(Redis.Connection);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Redis.DisposeAsync();
    }

    /// <summary>A tenant id no other test uses.</summary>
    public static string NewTenant(string prefix = "t") => $"{prefix}-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Creates a plan (as an operator would) and activates <paramref name="activeUsers"/>.</summary>
    public async Task<string> CreateTenantAsync(LicenseModel model = LicenseModel.RegisteredUsers, int seatLimit = 5, string[]? activeUsers = null, string? tenant = null)
    {
        tenant ??= NewTenant();
        var plan = await Host.Store.SetPlanAsync(tenant, new TenantPlan(model, seatLimit, []), fromConfiguration: false, actor: "test");
        Assert.Equal(PlanChangeStatus.Created, plan.Status);
        foreach (var user in activeUsers ?? [])
        {
            var r = await Host.Store.SetUserActiveAsync(tenant, user, true, "test");
            Assert.Contains(r.Status, new[] { ActivationStatus.Created, ActivationStatus.Updated });
        }
        return tenant;
    }

    public async Task<string> AdmitAsync(string tenant, string user, string device = "dev-1", ClientKind kind = ClientKind.Desktop)
    {
        var result = await Host.Store.AdmitAsync(new SessionIdentity(tenant, user, kind, device));
        Assert.True(result.IsAdmitted, $"admission of {user}/{device} in {tenant}: {result.Outcome}");
        return result.SessionId;
    }

    /// <summary>Everything the store holds for a tenant, to assert that a refused call changed nothing.</summary>
    public async Task<string> FingerprintAsync(string tenant)
    {
        var db = Redis.Connection.GetDatabase();
        var text = new StringBuilder();
        foreach (var key in TenantKeys.For(tenant))
        {
            text.Append(key).Append('=').Append(await Hostile.StoreSnapshot.ReadAsync(db, key)).Append('\n');
        }
        return text.ToString();
    }
}

[CollectionDefinition("management")]
public sealed class ManagementCollection : ICollectionFixture<ManagementFixture>;

internal static class ProblemAssert
{
    /// <summary>Asserts an RFC 9457 answer with the given status and <c>code</c>.</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(code, json.GetProperty("code").GetString());
        Assert.Equal(status, json.GetProperty("status").GetInt32());
        Assert.Equal("urn:seat-gateway:problem:" + code, json.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(json.GetProperty("detail").GetString()));
        return json;
    }
}
