using Gateway.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Hostile;

/// <summary>
/// The real gateway (<c>Program</c>) on real Kestrel on a free loopback port, with its own
/// redis-server and echo backend, and every log entry captured at Trace level. Kestrel, not the
/// test server: header limits (431), request-line limits (414), header syntax (CR, LF, NUL) and
/// path normalization (dot segments, %2F) are only real there.
/// </summary>
public abstract class KestrelGatewayFixture : GatewayFixture, IAsyncLifetime
{
    public CapturedLogs Logs { get; } = new();

    /// <summary><c>http://127.0.0.1:{port}</c> of the gateway (its first listening address).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Every listening address, as Kestrel bound them.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>An <see cref="HttpClient"/> on <see cref="Address"/> (the inherited <c>Client</c> is the test server's, not Kestrel's).</summary>
    public HttpClient Http { get; private set; } = null!;

    protected abstract void ConfigureGateway(GatewayFactory gateway);

    protected sealed override void Configure(GatewayFactory gateway)
    {
        ConfigureKestrel(gateway);
        gateway.WithLogging(CaptureEveryLevel ? Logs.AddTo : Logs.AddAtConfiguredLevels);
        ConfigureGateway(gateway);
    }

    // Re-implements IAsyncLifetime: start and stop as GatewayFixture does, plus Kestrel's addresses.
    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Addresses = Gateway.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(a => new Uri($"http://127.0.0.1:{new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal)).Port}")).ToArray();
        Address = Addresses[0];
        Http = new HttpClient { BaseAddress = Address };
        await OnStartedAsync();
    }

    public new async Task DisposeAsync()
    {
        Http?.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>
    /// True (the default): <see cref="Logs"/> captures every entry at Trace level, whatever the
    /// configuration says. False: only what the gateway's configured levels let through.
    /// </summary>
    protected virtual bool CaptureEveryLevel => true;

    /// <summary>Where Kestrel listens: by default one free loopback port.</summary>
    protected virtual void ConfigureKestrel(GatewayFactory gateway) => gateway.UseKestrel(0);

    /// <summary>Set-up after the gateway runs (plans, users), before the first test.</summary>
    protected virtual Task OnStartedAsync() => Task.CompletedTask;

    public Task<RawResponse> SendAsync(RawRequest request) => RawHttp.SendAsync(Address, request);

    /// <summary>Liveness after a hostile request: the process still answers.</summary>
    public async Task AssertAliveAsync(string what)
    {
        var health = await SendAsync(new RawRequest("GET", "/_licensing/healthz"));
        Assert.True(health.Status == 200, $"{what}: healthz answered {health} afterwards");
    }
}
