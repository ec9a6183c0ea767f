using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.FaultTests.Infrastructure;
using Gateway.Tests.Support;

namespace Gateway.FaultTests.Support;

/// <summary>The outcome of one proxied request: status, problem <c>code</c> (if any), when it started and how long it took.</summary>
public sealed record Attempt(string User, string Device, int Replica, HttpStatusCode Status, string? Code, string? RetryAfter, TimeSpan StartedAt, TimeSpan Duration, string? Error = null)
{
    public bool Forwarded => Status == HttpStatusCode.OK;

    public override string ToString() => $"{User}/{Device} via replica {Replica}: {(int)Status} {Code}{(Error is null ? "" : " " + Error)} (started {StartedAt.TotalMilliseconds:F0} ms, took {Duration.TotalMilliseconds:F0} ms)";
}

/// <summary>
/// Sends session traffic (bearer token, <c>X-Device-Id</c>, a desktop User-Agent) to gateway processes
/// over one pooled HttpClient with enough connections for hundreds of concurrent requests.
/// </summary>
public sealed class Seats : IDisposable
{
    private readonly HttpClient _http;
    private readonly Stopwatch _clock;

    /// <param name="clock">The clock <see cref="Attempt.StartedAt"/> is measured on (a shared one lets a test relate requests to a kill).</param>
    public Seats(Stopwatch? clock = null, int connectionsPerReplica = 256, TimeSpan? timeout = null)
    {
        _clock = clock ?? Stopwatch.StartNew();
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connectionsPerReplica,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            UseCookies = false,
            AllowAutoRedirect = false,
        })
        {
            // A correctness bound, not a speed target: a request that takes this long hangs.
            Timeout = timeout ?? TimeSpan.FromSeconds(60),
        };
    }

    public HttpClient Http => _http;

    /// <summary>One request of user <paramref name="user"/> on device <paramref name="device"/> to <c>/api/work</c> of a replica.</summary>
    public async Task<Attempt> SendAsync(GatewayProcess gateway, int replica, string tenant, string user, string device, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseAddress, "api/work"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token ?? TestTokens.User(tenant, user));
        request.Headers.Add("X-Device-Id", device);
        request.Headers.TryAddWithoutValidation("User-Agent", GatewayRequests.DesktopAgent);
        var started = _clock.Elapsed;
        try
        {
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var duration = _clock.Elapsed - started;
            string? code = null;
            if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            {
                using var json = JsonDocument.Parse(body);
                code = json.RootElement.TryGetProperty("code", out var c) ? c.GetString() : "(problem without code)";
            }
            var retryAfter = response.Headers.RetryAfter?.ToString();
            return new Attempt(user, device, replica, response.StatusCode, code, retryAfter, started, duration);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Status 0: no answer at all (connection refused or reset, or the client's timeout).
            return new Attempt(user, device, replica, 0, null, null, started, _clock.Elapsed - started, e.GetType().Name + ": " + e.Message);
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Starts a batch of requests together (all wait on one gate), so they really race.</summary>
public static class Burst
{
    public static async Task<T[]> RunAsync<T>(IReadOnlyList<Func<Task<T>>> calls)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = calls.Select(async call =>
        {
            await gate.Task;
            return await call();
        }).ToArray();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }
}
