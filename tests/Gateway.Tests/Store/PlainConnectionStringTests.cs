using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Management;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;

namespace Gateway.Tests.Store;

/// <summary>
/// The gateway on the connection string an operator writes: host and port, none of the client's
/// switches (no <c>allowAdmin</c>). Every other test's store string carries <c>allowAdmin=true</c>,
/// which once hid that admin writes asked the store about its replicas with a command the client
/// refuses without it: each admin change answered 500.
/// </summary>
public sealed class PlainConnectionStringTests : IAsyncLifetime
{
    private readonly RedisServerFixture _redis = new();
    private readonly LoopbackBackend _backend = new();
    private GatewayFactory _gateway = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        await _backend.InitializeAsync();
        _gateway = new GatewayFactory($"127.0.0.1:{_redis.Port}", _backend.BaseAddress);
        _client = await _gateway.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Admin_changes_land_on_a_store_string_without_client_switches()
    {
        var token = TestTokens.User("ops", "olga", ("role", ManagementCaller.OperatorRole));
        using var put = new HttpRequestMessage(HttpMethod.Put, "/_licensing/v1/tenants/plain-acme")
        {
            Content = new StringContent("""{"model":"RegisteredUsers","seatLimit":2}""", Encoding.UTF8, "application/json"),
        };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var created = await _client.SendAsync(put);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var activate = new HttpRequestMessage(HttpMethod.Put, "/_licensing/v1/tenants/plain-acme/users/alice")
        {
            Content = new StringContent("""{"active":true}""", Encoding.UTF8, "application/json"),
        };
        activate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var activated = await _client.SendAsync(activate);
        Assert.True(activated.IsSuccessStatusCode, $"activation answered {(int)activated.StatusCode}");

        using var get = new HttpRequestMessage(HttpMethod.Get, "/_licensing/v1/tenants/plain-acme");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var read = await _client.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await read.Content.ReadAsStringAsync());
        Assert.Equal(2, json.RootElement.GetProperty("seatLimit").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("activeUsers").GetInt32());
    }
}
