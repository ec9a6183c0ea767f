using System.Diagnostics;
using System.Net;
using Gateway.Licensing.Rules;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Xunit.Abstractions;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests.Security;

/// <summary>
/// The gateway against a real OpenID Connect provider (<see cref="OidcProvider"/>), configured only
/// through <c>Authentication:Schemes:Bearer:Authority</c> with the shipped key refresh settings: tokens
/// of both grants are accepted; a key rotation is honoured within 30 s whatever tokens with made-up key
/// ids arrive meanwhile; a key the provider stops publishing stops working within 30 s, for a token
/// validated (and cached) before and for a brand-new one.
/// </summary>
public sealed class SigningKeyTests(SigningKeyTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<SigningKeyTests.Fixture>
{
    private const string Tenant = "oidc";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public sealed class Fixture : GatewayFixture, IAsyncLifetime
    {
        public OidcProvider Provider { get; } = new() { Tenant = Tenant };

        protected override void Configure(GatewayFactory gateway) => gateway
            .WithAuthority(Provider.Authority, OidcProvider.Audience)
            .WithTenant(Tenant, LicenseModel.ConcurrentSessions, 100);

        public new async Task InitializeAsync()
        {
            await Provider.InitializeAsync();
            await base.InitializeAsync();
        }

        public new async Task DisposeAsync()
        {
            await base.DisposeAsync();
            await Provider.DisposeAsync();
        }
    }

    private OidcProvider Provider => fixture.Provider;

    private async Task<HttpStatusCode> SendAsync(string token, string device = "d1")
    {
        using var response = await fixture.Client.SendAsync(Get("/api/keys", token, device));
        return response.StatusCode;
    }

    /// <summary>Sends the token until the answer is <paramref name="expected"/>; how long that took, or null after <see cref="Bound"/>.</summary>
    private async Task<TimeSpan?> TimeUntilAsync(string token, HttpStatusCode expected, Stopwatch since)
    {
        while (since.Elapsed <= Bound)
        {
            if (await SendAsync(token) == expected) return since.Elapsed;
            await Task.Delay(250);
        }
        return null;
    }

    private static string KeyIdOf(string token) => new JsonWebToken(token).Kid;

    [Fact]
    public async Task Access_tokens_of_the_client_credentials_and_authorization_code_grants_are_accepted()
    {
        var service = await Provider.ClientCredentialsTokenAsync();
        var user = await Provider.AuthorizationCodeTokenAsync("bob");
        Assert.Equal("at+jwt", new JsonWebToken(service).Typ);

        var serviceEcho = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/keys/service", service)));
        var userEcho = await Echo.ReadAsync(await fixture.Client.SendAsync(Get("/api/keys/user", user)));

        Assert.Equal(Tenant, serviceEcho.Header("X-Licensing-Tenant"));
        Assert.Equal(Tenant, userEcho.Header("X-Licensing-Tenant"));
        Assert.NotEqual(serviceEcho.Header("X-Licensing-Session"), userEcho.Header("X-Licensing-Session"));
    }

    [Fact]
    public async Task A_key_rotation_is_honoured_within_30_s_whatever_tokens_with_unknown_key_ids_arrive()
    {
        // The keys are known (discovery done), then a token names a key nobody publishes: the stock
        // configuration manager honours that one refresh request and ignores the next ones for 5 minutes.
        Assert.Equal(HttpStatusCode.OK, await SendAsync(await Provider.ClientCredentialsTokenAsync()));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(Provider.MintToken("made-up-" + Guid.NewGuid().ToString("N"))));

        using var stop = new CancellationTokenSource();
        var bogusSent = 0;
        var flood = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(Provider.MintToken("made-up-" + Guid.NewGuid().ToString("N")), "bogus"));
                Interlocked.Increment(ref bogusSent);
                await Task.Delay(100);
            }
        });
        try
        {
            await Task.Delay(1000);
            var readsBefore = Provider.JwksReads;
            var since = Stopwatch.StartNew();
            var newKey = await Provider.RotateSigningKeyAsync();
            var token = await Provider.ClientCredentialsTokenAsync();
            Assert.Equal(newKey, KeyIdOf(token));

            var accepted = await TimeUntilAsync(token, HttpStatusCode.OK, since);
            var reads = Provider.JwksReads - readsBefore;
            output.WriteLine($"token of the new key accepted after {accepted?.TotalSeconds:F1} s; {Volatile.Read(ref bogusSent)} made-up key ids sent meanwhile; {reads} JWKS reads");
            Assert.True(accepted is not null, $"A token of the new key was still refused {Bound.TotalSeconds} s after the rotation.");
            // Made-up key ids do not turn into a stream of requests to the provider: at most one on-demand
            // refresh per 5 s, besides the periodic one.
            Assert.True(reads <= since.Elapsed.TotalSeconds / 5 + 3, $"{reads} JWKS reads in {since.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            stop.Cancel();
            await flood;
        }
    }

    [Fact]
    public async Task A_removed_key_stops_working_within_30_s_for_cached_and_new_tokens()
    {
        var oldKey = Provider.SigningKeyId;
        var seen = await Provider.ClientCredentialsTokenAsync();
        Assert.Equal(oldKey, KeyIdOf(seen));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(seen)); // validated and cached
        Assert.Equal(HttpStatusCode.OK, await SendAsync(Provider.MintToken(oldKey, subject: "mint-check")));

        var newKey = await Provider.RotateSigningKeyAsync();
        var fresh = await Provider.ClientCredentialsTokenAsync();
        Assert.Equal(newKey, KeyIdOf(fresh));
        Assert.True(await TimeUntilAsync(fresh, HttpStatusCode.OK, Stopwatch.StartNew()) is not null, "The new key was not picked up.");
        Assert.Equal(HttpStatusCode.OK, await SendAsync(seen)); // its key is still published

        var since = Stopwatch.StartNew();
        await Provider.RemoveSigningKeyAsync(oldKey);
        var refused = await TimeUntilAsync(seen, HttpStatusCode.Unauthorized, since);
        output.WriteLine($"cached token of the removed key refused after {refused?.TotalSeconds:F1} s");
        Assert.True(refused is not null, $"A cached token of a removed key was still accepted {Bound.TotalSeconds} s after the removal.");

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(Provider.MintToken(oldKey, subject: "brand-new")));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(fresh));
    }
}
