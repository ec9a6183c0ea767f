using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Options;
using Gateway.Licensing.Results;
using Gateway.Licensing.Rules;
using Gateway.Licensing.Sessions;
using Gateway.Licensing.Store;
using Gateway.Licensing.Tests.Infrastructure;
using Gateway.Licensing.Tests.Support;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>
/// Long-lived connections through the real gateway on real Kestrel sockets (YARP's upgrade path is only
/// real there), to a real WebSocket / event-stream backend, on a real redis-server: an open WebSocket or
/// a response still streaming is use of its session; ending the session closes it.
/// IdleTimeout is 4 s (TouchInterval 0.2 s), the sweep runs every 0.5 s; every tenant has one seat.
/// </summary>
public sealed class LongLivedConnectionTests(LongLivedConnectionTests.Fixture fixture, ITestOutputHelper output)
    : IClassFixture<LongLivedConnectionTests.Fixture>
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Touch = Idle / 20;
    private static readonly TimeSpan ServiceLifetime = TimeSpan.FromSeconds(3);

    /// <summary>The 1 s of the contract, plus what a busy 2-core machine may add to noticing a closed socket.</summary>
    private static readonly TimeSpan CloseBound = TimeSpan.FromSeconds(1);

    public sealed class Fixture : IAsyncLifetime
    {
        public RedisServerFixture Redis { get; } = new();
        public StreamingBackend Backend { get; } = new();
        public GatewayFactory Gateway { get; private set; } = null!;
        public HttpClient Http { get; private set; } = null!;
        public Uri Address { get; private set; } = null!;

        public static readonly string[] Tenants = ["ws-keep", "ws-end", "ws-remote", "sse-keep", "svc-ws"];

        public async Task InitializeAsync()
        {
            await Redis.InitializeAsync();
            await Backend.InitializeAsync();
            Gateway = new GatewayFactory(Redis.ConnectionString + ",syncTimeout=5000,asyncTimeout=5000", Backend.BaseAddress)
                .With("Licensing:IdleTimeout", Idle.ToString())
                .With("Licensing:SweepInterval", "00:00:00.5")
                .With("Licensing:ServiceSessionLifetime", ServiceLifetime.ToString());
            foreach (var tenant in Tenants) Gateway.WithTenant(tenant, LicenseModel.ConcurrentSessions, 1);
            Gateway.UseKestrel(0);
            (await Gateway.StartAsync()).Dispose();
            var address = Gateway.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            Address = new Uri($"http://127.0.0.1:{new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port}/");
            Http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        }

        public async Task DisposeAsync()
        {
            Http?.Dispose();
            if (Gateway is not null) await Gateway.DisposeAsync();
            await Backend.DisposeAsync();
            await Redis.DisposeAsync();
        }

        public async Task<ClientWebSocket> OpenWebSocketAsync(string token, string device = "d1")
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            socket.Options.SetRequestHeader("X-Device-Id", device);
            socket.Options.SetRequestHeader("User-Agent", DesktopAgent);
            await socket.ConnectAsync(new Uri($"ws://{Address.Authority}/api/ws"), CancellationToken.None);
            return socket;
        }

        public async Task<HttpStatusCode> StatusOfAsync(string token, string device = "d1")
        {
            using var response = await Http.SendAsync(Get("/api/x", token, device));
            return response.StatusCode;
        }
    }

    private static string SessionOf(string tenant, string user, string device = "d1", ClientKind kind = ClientKind.Desktop) =>
        new SessionIdentity(tenant, user, kind, device).ComputeSessionId();

    private static async Task<string?> EchoAsync(WebSocket socket, string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
            return await StreamingBackend.ReceiveTextAsync(socket, cts.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    /// <summary>Waits until the socket is closed or fails (returns how long that took), or until <paramref name="timeout"/> (null).</summary>
    private static async Task<TimeSpan?> TimeUntilClosedAsync(WebSocket socket, Stopwatch since, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await StreamingBackend.ReceiveTextAsync(socket, cts.Token) is not null)
            {
            }
            return since.Elapsed;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    [Fact]
    public async Task An_open_websocket_keeps_its_seat_and_its_idle_clock_starts_when_it_closes()
    {
        const string tenant = "ws-keep";
        using var socket = await fixture.OpenWebSocketAsync(TestTokens.User(tenant, "alice"));

        // Twice the idle timeout of traffic on the socket alone, no other request of the session.
        var open = Stopwatch.StartNew();
        for (var i = 0; open.Elapsed < 2 * Idle + TimeSpan.FromSeconds(1); i++)
        {
            Assert.Equal($"ping {i}", await EchoAsync(socket, $"ping {i}", TimeSpan.FromSeconds(10)));
            await Task.Delay(500);
        }
        var whileOpen = await fixture.StatusOfAsync(TestTokens.User(tenant, "bob"));
        Assert.True(whileOpen == HttpStatusCode.TooManyRequests,
            $"{open.Elapsed.TotalSeconds:F1} s into an open WebSocket with traffic every 0.5 s, another user got {(int)whileOpen}: the socket lost its seat");

        // Timed from before the close: the gateway cannot see the socket close before the client starts closing it.
        var closed = Stopwatch.StartNew();
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        // The session idles out between IdleTimeout and IdleTimeout + TouchInterval after the close, never before.
        await Task.Delay(Idle - TimeSpan.FromSeconds(1));
        var beforeIdle = await fixture.StatusOfAsync(TestTokens.User(tenant, "bob"));
        Assert.True(beforeIdle == HttpStatusCode.TooManyRequests, $"{closed.Elapsed.TotalSeconds:F1} s after the socket closed, another user got {(int)beforeIdle}");

        HttpStatusCode status;
        while ((status = await fixture.StatusOfAsync(TestTokens.User(tenant, "bob"))) != HttpStatusCode.OK)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, status);
            Assert.True(closed.Elapsed < Idle + Touch + TimeSpan.FromSeconds(3), $"the session outlived its idle timeout after the close by {closed.Elapsed - Idle}");
            await Task.Delay(100);
        }
        Assert.True(closed.Elapsed >= Idle, $"the seat was free {closed.Elapsed.TotalSeconds:F2} s after the close, before the idle timeout");
        output.WriteLine($"seat free {closed.Elapsed.TotalSeconds:F2} s after the WebSocket closed (idle timeout {Idle.TotalSeconds} s)");
    }

    [Fact]
    public async Task Ending_the_session_closes_its_websocket_within_a_second()
    {
        const string tenant = "ws-end";
        var worst = TimeSpan.Zero;
        var trials = Trials.Count(2);
        for (var trial = 0; trial < trials; trial++)
        {
            var device = $"d{trial}";
            using var socket = await fixture.OpenWebSocketAsync(TestTokens.User(tenant, "alice"), device);
            Assert.Equal("hello", await EchoAsync(socket, "hello", TimeSpan.FromSeconds(10)));

            var since = Stopwatch.StartNew();
            Assert.True(await fixture.Gateway.Store.EndSessionAsync(tenant, SessionOf(tenant, "alice", device), EndReason.Revoked, "admin"));
            var took = await TimeUntilClosedAsync(socket, since, TimeSpan.FromSeconds(5));
            Assert.True(took is not null, "the WebSocket was still open 5 s after its session ended");
            Assert.True(took <= CloseBound, $"the WebSocket closed {took!.Value.TotalMilliseconds:F0} ms after its session ended");
            worst = took.Value > worst ? took.Value : worst;
        }
        output.WriteLine($"WebSocket closed after its session ended (admin, same replica): worst of {trials} trials {worst.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_session_ended_by_another_replica_closes_the_websocket_within_a_second()
    {
        const string tenant = "ws-remote";
        // What another replica does: end the session in the store, then announce it on the channel.
        await using var other = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var otherStore = new LicenseStore(other, new StaticOptionsMonitor<LicensingOptions>(new LicensingOptions { IdleTimeout = Idle }), []);
        var worst = TimeSpan.Zero;
        var trials = Trials.Count(1);
        for (var trial = 0; trial < trials; trial++)
        {
            var device = $"d{trial}";
            using var socket = await fixture.OpenWebSocketAsync(TestTokens.User(tenant, "alice"), device);
            Assert.Equal("hello", await EchoAsync(socket, "hello", TimeSpan.FromSeconds(10)));

            var session = SessionOf(tenant, "alice", device);
            var since = Stopwatch.StartNew();
            Assert.True(await otherStore.EndSessionAsync(tenant, session, EndReason.Revoked, "admin"));
            await other.GetSubscriber().PublishAsync(TenantKeys.RevocationChannel, session);

            var took = await TimeUntilClosedAsync(socket, since, TimeSpan.FromSeconds(5));
            Assert.True(took is not null, "the WebSocket was still open 5 s after another replica ended its session");
            Assert.True(took <= CloseBound, $"the WebSocket closed {took!.Value.TotalMilliseconds:F0} ms after another replica ended its session");
            worst = took.Value > worst ? took.Value : worst;
        }
        output.WriteLine($"WebSocket closed after another replica ended its session: worst of {trials} trials {worst.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_streaming_response_keeps_its_seat_and_ends_with_its_session()
    {
        const string tenant = "sse-keep";
        using var request = Get("/api/stream?ms=500", TestTokens.User(tenant, "alice"));
        using var response = await fixture.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var open = Stopwatch.StartNew();
        var events = 0;
        while (open.Elapsed < 2 * Idle + TimeSpan.FromSeconds(1))
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotNull(line);
            if (line.StartsWith("data:", StringComparison.Ordinal)) events++;
        }
        var whileOpen = await fixture.StatusOfAsync(TestTokens.User(tenant, "bob"));
        Assert.True(whileOpen == HttpStatusCode.TooManyRequests,
            $"{open.Elapsed.TotalSeconds:F1} s into a streaming response ({events} events), another user got {(int)whileOpen}: the stream lost its seat");

        var since = Stopwatch.StartNew();
        Assert.True(await fixture.Gateway.Store.EndSessionAsync(tenant, SessionOf(tenant, "alice"), EndReason.Revoked, "admin"));
        TimeSpan? took = null;
        try
        {
            while (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5)) is not null)
            {
            }
            took = since.Elapsed;
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            took = since.Elapsed;
        }
        catch (TimeoutException)
        {
        }
        Assert.True(took is not null, "the streaming response was still open 5 s after its session ended");
        Assert.True(took <= CloseBound, $"the streaming response ended {took!.Value.TotalMilliseconds:F0} ms after its session ended");
    }

    [Fact]
    public async Task A_service_sessions_websocket_is_closed_at_its_lifetime()
    {
        const string tenant = "svc-ws";
        var latest = TimeSpan.MinValue;
        var trials = Trials.Count(1);
        for (var trial = 0; trial < trials; trial++)
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + TestTokens.Service(tenant, $"batch-{trial}"));
            socket.Options.SetRequestHeader("User-Agent", DesktopAgent);
            await socket.ConnectAsync(new Uri($"ws://{fixture.Address.Authority}/api/ws"), CancellationToken.None);
            using var _ = socket;
            // A service token carries no device: the device is the fingerprint. Take the id the backend saw.
            var session = fixture.Backend.Received.Last(r => r.Path == "/api/ws").Session;
            var deadlineMs = await fixture.Redis.Connection.GetDatabase().SortedSetScoreAsync(TenantKeys.For(tenant)[TenantKeys.Service], session);
            Assert.NotNull(deadlineMs);
            var deadline = DateTimeOffset.FromUnixTimeMilliseconds((long)deadlineMs.Value);

            var clock = Stopwatch.StartNew();
            var closed = await TimeUntilClosedAsync(socket, clock, ServiceLifetime + TimeSpan.FromSeconds(5));
            var closedAt = DateTimeOffset.UtcNow;
            Assert.True(closed is not null, "the service session's WebSocket outlived its lifetime by 5 s");
            Assert.True(closedAt - deadline <= CloseBound, $"the WebSocket closed {(closedAt - deadline).TotalMilliseconds:F0} ms after the session's deadline");
            latest = closedAt - deadline > latest ? closedAt - deadline : latest;
        }
        output.WriteLine($"service WebSocket closed at most {latest.TotalMilliseconds:F0} ms after the session's deadline ({trials} trials; negative: before it)");
    }
}
