using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Development;

/// <summary>
/// Prints ready-to-paste curl commands with short-lived tokens signed by the Development signing
/// key, so a newcomer sees a 200, a 429, a preemption and a 403 by copy-paste. Development only;
/// the key lives in appsettings.Development.json and never in shipped configuration.
/// </summary>
internal sealed partial class DemoTokens : IHostedService
{
    private readonly IHostApplicationLifetime _lifetime;
    private readonly IServer _server;
    private readonly IConfiguration _configuration;
    private readonly DemoOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DemoTokens> _logger;

    public DemoTokens(IHostApplicationLifetime lifetime, IServer server, IConfiguration configuration, DemoOptions options, TimeProvider time, ILogger<DemoTokens> logger)
    {
        _lifetime = lifetime;
        _server = server;
        _configuration = configuration;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _lifetime.ApplicationStarted.Register(PrintCommands);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void PrintCommands()
    {
        var bearer = _configuration.GetSection("Authentication:Schemes:Bearer");
        var key = bearer.GetSection("SigningKeys").GetChildren().FirstOrDefault(k => k["Id"] == "demo");
        if (key?["Value"] is not { } value || key["Issuer"] is not { } issuer)
        {
            LogNoDemoKey();
            return;
        }
        var audience = bearer.GetSection("ValidAudiences").GetChildren().Select(c => c.Value).FirstOrDefault(a => a is not null);
        var address = _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal))
            ?? _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? "http://localhost:5181";
        address = address.Replace("[::]", "localhost").Replace("0.0.0.0", "localhost").Replace("+", "localhost").Replace("*", "localhost");

        var signing = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(value)), SecurityAlgorithms.HmacSha256);
        string Token(string user) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", user), new Claim("tid", _options.Tenant)]),
            Expires = _time.GetUtcNow().Add(_options.TokenLifetime).UtcDateTime,
            IssuedAt = _time.GetUtcNow().UtcDateTime,
            NotBefore = _time.GetUtcNow().UtcDateTime,
            SigningCredentials = signing,
        });
        string Operator() => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", "ops"), new Claim("tid", _options.Tenant), new Claim("role", "license-operator")]),
            Expires = _time.GetUtcNow().Add(_options.TokenLifetime).UtcDateTime,
            SigningCredentials = signing,
        });

        var alice = Token("alice");
        var bob = Token("bob");
        var mallory = Token("mallory");
        var ops = Operator();
        var text = new StringBuilder()
            .AppendLine()
            .AppendLine($"Seat gateway demo: tenant '{_options.Tenant}' is RegisteredUsers with active users alice and bob (2 seats in use at most).")
            .AppendLine($"Tokens below expire in {_options.TokenLifetime}. Paste these in order:")
            .AppendLine()
            .AppendLine("# 1. alice on her laptop: 200, forwarded to the stand-in ERP")
            .AppendLine($"curl -i {address}/api/domain/odata/Items -H 'Authorization: Bearer {alice}' -H 'X-Device-Id: laptop'")
            .AppendLine("# 2. alice on her phone too: 200 (a borrowed seat: bob is not connected)")
            .AppendLine($"curl -i {address}/api/domain/odata/Items -H 'Authorization: Bearer {alice}' -H 'X-Device-Id: phone' -H 'X-Client-Kind: mobile'")
            .AppendLine("# 3. alice on a third device: 429 seats-exhausted (2 sessions = 2 active users)")
            .AppendLine($"curl -i {address}/api/domain/odata/Items -H 'Authorization: Bearer {alice}' -H 'X-Device-Id: tablet'")
            .AppendLine("# 4. bob connects: 200; alice's least recently used borrowed session (the laptop) is ended for him")
            .AppendLine($"curl -i {address}/api/domain/odata/Items -H 'Authorization: Bearer {bob}' -H 'X-Device-Id: desk'")
            .AppendLine("# 5. mallory is registered but not active: 403 user-inactive")
            .AppendLine($"curl -i {address}/api/domain/odata/Items -H 'Authorization: Bearer {mallory}' -H 'X-Device-Id: pc'")
            .AppendLine("# 6. as a license operator: the tenant's seats and sessions")
            .AppendLine($"curl -s {address}/_licensing/v1/tenants/{_options.Tenant} -H 'Authorization: Bearer {ops}'")
            .AppendLine($"curl -s {address}/_licensing/v1/tenants/{_options.Tenant}/sessions -H 'Authorization: Bearer {ops}'")
            .AppendLine()
            .AppendLine("`dotnet user-jwts create --project src/Gateway --claim tid=demo` tokens work too (activate their user first).")
            .ToString();
        // Straight to the console, not the logger: no log pipeline ever carries a token.
        Console.Out.WriteLine(text);
    }

    [LoggerMessage(EventId = 2910, Level = LogLevel.Warning, Message = "Demo: no signing key with Id 'demo' under Authentication:Schemes:Bearer:SigningKeys; no demo tokens printed")]
    private partial void LogNoDemoKey();
}
