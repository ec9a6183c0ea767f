using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.FaultTests.Infrastructure;
using Gateway.Tests.Support;

namespace Gateway.FaultTests.Support;

/// <summary>A <c>license-operator</c> calling the management API (<c>/_licensing/v1</c>) of a gateway process.</summary>
public sealed class Operator(HttpClient http)
{
    public static readonly string Token = TestTokens.User("ops", "olga", ("role", new[] { "license-operator" }));

    public async Task<(HttpStatusCode Status, string Body)> SendAsync(GatewayProcess gateway, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(gateway.BaseAddress, "_licensing/v1/" + path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>PUT a plan through the API; asserts 200/201.</summary>
    public async Task PutPlanAsync(GatewayProcess gateway, string tenant, string model, int seatLimit)
    {
        var (status, body) = await SendAsync(gateway, HttpMethod.Put, $"tenants/{tenant}", $$"""{"model":"{{model}}","seatLimit":{{seatLimit}}}""");
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Created, $"PUT plan of {tenant}: {(int)status} {body}");
    }

    /// <summary>PATCH: activates <paramref name="users"/> all at once; asserts 200.</summary>
    public async Task ActivateAllAsync(GatewayProcess gateway, string tenant, IEnumerable<string> users)
    {
        var list = string.Join(",", users.Select(u => $$"""{"userId":"{{u}}","active":true}"""));
        var (status, body) = await SendAsync(gateway, HttpMethod.Patch, $"tenants/{tenant}/users", $$"""{"users":[{{list}}]}""");
        Assert.True(status == HttpStatusCode.OK, $"PATCH users of {tenant}: {(int)status} {body}");
    }

    /// <summary>PUT one user active or inactive; returns the status (200/201, or 409 seat-limit-reached).</summary>
    public async Task<HttpStatusCode> SetActiveAsync(GatewayProcess gateway, string tenant, string user, bool active) =>
        (await SendAsync(gateway, HttpMethod.Put, $"tenants/{tenant}/users/{user}", active ? """{"active":true}""" : """{"active":false}""")).Status;

    public async Task<(HttpStatusCode Status, string Body)> SwapAsync(GatewayProcess gateway, string tenant, string deactivate, string activate) =>
        await SendAsync(gateway, HttpMethod.Post, $"tenants/{tenant}/users/swap", $$"""{"deactivate":"{{deactivate}}","activate":"{{activate}}"}""");

    /// <summary>GET the tenant: its counts, or null for 404.</summary>
    public async Task<TenantCounts?> GetTenantAsync(GatewayProcess gateway, string tenant)
    {
        var (status, body) = await SendAsync(gateway, HttpMethod.Get, $"tenants/{tenant}");
        if (status == HttpStatusCode.NotFound) return null;
        Assert.True(status == HttpStatusCode.OK, $"GET {tenant}: {(int)status} {body}");
        var json = JsonDocument.Parse(body).RootElement;
        return new TenantCounts(json.GetProperty("model").GetString()!, json.GetProperty("seatLimit").GetInt32(),
            json.GetProperty("activeUsers").GetInt32(), json.GetProperty("activeSessions").GetInt32());
    }

    /// <summary>Polls GET tenant until it answers 200 (e.g. the plan seeded from configuration is in the store).</summary>
    public async Task<TenantCounts> WaitForTenantAsync(GatewayProcess gateway, string tenant, TimeSpan timeout)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await GetTenantAsync(gateway, tenant) is { } counts) return counts;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Xunit.Sdk.XunitException && elapsed.Elapsed < timeout)
            {
                // the store is not answering yet (e.g. 503 while it restarts)
            }
            if (elapsed.Elapsed > timeout) throw new TimeoutException($"GET tenant {tenant} did not answer 200 within {timeout}.");
            await Task.Delay(100);
        }
    }

    /// <summary>The ids of the tenant's active users (first page, up to 1000).</summary>
    public async Task<IReadOnlyList<string>> ListActiveUsersAsync(GatewayProcess gateway, string tenant)
    {
        var (status, body) = await SendAsync(gateway, HttpMethod.Get, $"tenants/{tenant}/users?active=true&limit=1000");
        // A store that has just restarted (or a loaded machine) can answer 503 for a moment: retry as a client would.
        for (var retry = Stopwatch.StartNew(); status == HttpStatusCode.ServiceUnavailable && retry.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(200);
            (status, body) = await SendAsync(gateway, HttpMethod.Get, $"tenants/{tenant}/users?active=true&limit=1000");
        }
        Assert.True(status == HttpStatusCode.OK, $"GET users of {tenant}: {(int)status} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("userId").GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The ids of a tenant's sessions (first page, up to 1000).</summary>
    public async Task<IReadOnlyList<(string SessionId, string UserId)>> ListSessionsAsync(GatewayProcess gateway, string tenant)
    {
        var (status, body) = await SendAsync(gateway, HttpMethod.Get, $"tenants/{tenant}/sessions?limit=1000");
        Assert.True(status == HttpStatusCode.OK, $"GET sessions of {tenant}: {(int)status} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("sessions").EnumerateArray()
            .Select(s => (s.GetProperty("sessionId").GetString()!, s.GetProperty("userId").GetString()!)).ToArray();
    }
}

public sealed record TenantCounts(string Model, int SeatLimit, int ActiveUsers, int ActiveSessions);
