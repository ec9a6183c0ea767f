using System.Text.Json;
using Gateway.Licensing.Store;

namespace Gateway.Tests.Hostile;

/// <summary>Sends one hostile request to the gateway and checks everything issue 5 asks of the answer.</summary>
public static class HostileRunner
{
    /// <summary>
    /// Checks, for <paramref name="request"/>: an answer at all (no hang, no dropped connection), never a
    /// 5xx, exactly the <paramref name="expected"/> answer, the store unchanged (or, where the request is
    /// valid by the id rules, no key outside the tenants' fixed key sets), nothing forwarded unless expected, and
    /// the gateway still answering its liveness probe afterwards.
    /// </summary>
    public static async Task<RawResponse> RunAsync(KestrelGatewayFixture gateway, RawRequest request, Outcome expected, string what, bool checkAlive = true)
    {
        var before = await StoreSnapshot.TakeAsync(gateway.Redis.Connection);
        var forwardedBefore = gateway.Backend.Received.Count;

        var response = await gateway.SendAsync(request);
        var context = $"{what} [{request}] expected {expected}, got {response}";

        Assert.True(response.Status != 0, $"{context}: the connection closed without an answer");
        Assert.True(response.Status < 500, $"{context}: a 5xx");

        var forwarded = gateway.Backend.Received.Count - forwardedBefore;
        switch (expected.Answer)
        {
            case Answer.Challenge:
                Assert.True(response.IsBearerChallenge, $"{context}: not a 401 bearer challenge");
                break;
            case Answer.Problem:
                Assert.True(response.Status == expected.Status && response.IsProblem && response.ProblemCode == expected.Code, context);
                AssertProblemShape(response, context);
                break;
            case Answer.Server:
                // Kestrel's own refusal: before routing, so no problem body, nothing of the gateway ran.
                Assert.True(response.Status == expected.Status && !response.IsProblem, context);
                break;
            case Answer.Forwarded:
                Assert.True(response.Status == 200, context);
                var echo = Headers(response, context);
                Assert.True(echo.TryGetValue("X-Licensing-Tenant", out var tenant) && tenant == HostileCorpus.Tenant, $"{context}: X-Licensing-Tenant {tenant}");
                Assert.True(echo.TryGetValue("X-Licensing-Session", out var session) && session.Length == 22 && session.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'),
                    $"{context}: X-Licensing-Session '{session}'");
                Assert.True(echo.Keys.Count(k => k.StartsWith("X-Licensing-", StringComparison.OrdinalIgnoreCase)) == 2, $"{context}: inbound X-Licensing-* reached the backend");
                break;
            case Answer.Released:
                Assert.True(response.Status == 200, context);
                var released = Headers(response, context);
                Assert.True(released.TryGetValue("X-Licensing-Tenant", out var releasedTenant) && releasedTenant == expected.Tenant, $"{context}: X-Licensing-Tenant {releasedTenant}");
                Assert.True(released.Keys.Count(k => k.StartsWith("X-Licensing-", StringComparison.OrdinalIgnoreCase)) == 2, $"{context}: inbound X-Licensing-* reached the backend");
                break;
            case Answer.PassedThrough:
                Assert.True(response.Status == 200, context);
                Assert.DoesNotContain(Headers(response, context).Keys, k => k.StartsWith("X-Licensing-", StringComparison.OrdinalIgnoreCase));
                break;
            case Answer.Applied:
                Assert.True(response.Status == expected.Status, context);
                break;
            case Answer.Read:
                Assert.True(response.Status == 200 && !response.IsProblem, context);
                break;
        }
        if (expected.Answer is Answer.Forwarded or Answer.PassedThrough or Answer.Released)
            Assert.True(forwarded == 1, $"{context}: forwarded {forwarded} times");
        else
            Assert.True(forwarded == 0, $"{context}: reached the backend");

        var after = await StoreSnapshot.TakeAsync(gateway.Redis.Connection);
        if (expected.StoreUnchanged)
        {
            before.AssertUnchanged(after, context);
        }
        else if (expected.Answer is Answer.Applied or Answer.Released)
        {
            var allowed = TenantKeys.For(expected.Tenant!).Select(k => k.ToString()).ToHashSet(StringComparer.Ordinal);
            var changed = before.Diff(after).ToArray();
            Assert.True(changed.All(allowed.Contains), $"{context}: changed keys outside {expected.Tenant}: {string.Join(", ", changed)}");
        }
        after.AssertOnlyKnownKeys(context);

        if (checkAlive) await gateway.AssertAliveAsync(context);
        return response;
    }

    private static void AssertProblemShape(RawResponse response, string context)
    {
        var json = JsonDocument.Parse(response.Body).RootElement;
        Assert.True(json.GetProperty("status").GetInt32() == response.Status, context);
        Assert.True(json.GetProperty("type").GetString() == "urn:seat-gateway:problem:" + response.ProblemCode, context);
        Assert.False(string.IsNullOrEmpty(json.GetProperty("title").GetString()), context);
        Assert.False(string.IsNullOrEmpty(json.GetProperty("detail").GetString()), context);
    }

    /// <summary>The headers the echo backend received, from its JSON answer.</summary>
    private static Dictionary<string, string> Headers(RawResponse response, string context)
    {
        Assert.True(response.MediaType == "application/json", $"{context}: not the echo backend's answer");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in JsonDocument.Parse(response.Body).RootElement.GetProperty("headers").EnumerateObject()) headers[h.Name] = h.Value.GetString() ?? "";
        return headers;
    }
}
