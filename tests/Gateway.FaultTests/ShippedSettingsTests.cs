using Gateway.FaultTests.Infrastructure;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;

namespace Gateway.FaultTests;

/// <summary>
/// The built gateway started as an operator might, from another working directory: the shipped
/// <c>appsettings.json</c> still applies (the content root is the application's folder), so its log
/// levels hold: no request line with a query string, a token or a secret, and no backend address.
/// </summary>
public sealed class ShippedSettingsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new();
    private readonly LoopbackBackend _backend = new();

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        await _backend.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Started_from_another_working_directory_the_shipped_settings_and_log_levels_apply()
    {
        using var elsewhere = new TempDirectory("cwd");
        var settings = new GatewaySettings(_redis.ConnectionString, _backend.BaseAddress)
            .WithTenant("cwd", "ConcurrentSessions", 10)
            .With("ReverseProxy:Routes:open:ClusterId", "backend")
            .With("ReverseProxy:Routes:open:Match:Path", "/id/{**rest}")
            .With("ReverseProxy:Routes:open:Metadata:Licensing", "Off");
        settings.WorkingDirectory = elsewhere.Path;
        await using var gateway = await GatewayProcess.StartAsync(settings, "elsewhere", output);

        var token = TestTokens.User("cwd", "alice", ("jti", Guid.NewGuid().ToString("N")));
        var secret = "secret-" + Guid.NewGuid().ToString("N");
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress };
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"api/x?access_token={token}"))
        {
            request.Headers.Authorization = new("Bearer", token);
            request.Headers.Add("X-Device-Id", "d1");
            using var response = await http.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
        using (var response = await http.GetAsync($"id/connect/token?client_id=svc&client_secret={secret}"))
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        using (var response = await http.GetAsync($"api/x?client_secret={secret}"))
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);

        await Task.Delay(500); // the console logger writes asynchronously
        var log = gateway.Output;
        output.WriteLine(GatewayProcess.Tail(log, 20));
        var folder = Path.GetDirectoryName(GatewayProcess.AssemblyPath)!;
        Assert.Contains("Content root path: " + folder, log, StringComparison.Ordinal);
        Assert.DoesNotContain(elsewhere.Path, log, StringComparison.Ordinal);
        Assert.DoesNotContain(token, log, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[2], log, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token=", log, StringComparison.Ordinal);
        Assert.DoesNotContain(_backend.BaseAddress.Authority, log, StringComparison.Ordinal);
    }
}
