using System.Text.Json;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.GatewayRequests;

namespace Gateway.Tests;

/// <summary>
/// The shipped configuration samples are true to the code: each starts the real gateway (options
/// validation, YARP's check of every route and policy name) and forwards a licensed request. Only
/// what cannot work here is replaced: the Redis connection, token validation (the test key instead
/// of the identity provider) and the backends' addresses (the loopback backend).
/// </summary>
public sealed class ConfigSampleTests(StartupTests.Stores stores) : IClassFixture<StartupTests.Stores>
{
    [Theory]
    [InlineData("config/appsettings.Production.sample.json", "http://localhost", "erp-admin", "contoso")]
    [InlineData("config/kubernetes/appsettings.Production.sample.json", "http://localhost", "erp-admin", "contoso")]
    [InlineData("config/appsettings.Production.two-instances.sample.json", "http://globex.my.erp.net", "someone", "globex")]
    public async Task A_sample_starts_and_forwards_a_licensed_request(string file, string origin, string user, string tenant)
    {
        await using var gateway = new GatewayFactory(stores.Redis.ConnectionString, stores.Backend.BaseAddress);
        foreach (var (key, value) in Flatten(JsonDocument.Parse(File.ReadAllText(RepoFile(file))).RootElement, ""))
        {
            if (key.StartsWith("Authentication:", StringComparison.Ordinal) || key.StartsWith("ConnectionStrings:", StringComparison.Ordinal)) continue;
            var isAddress = key.StartsWith("ReverseProxy:Clusters:", StringComparison.Ordinal) && key.EndsWith(":Address", StringComparison.Ordinal);
            // The placeholders an operator fills in (<instance>, ...) become plain names.
            var filled = value is null ? null : System.Text.RegularExpressions.Regex.Replace(value, "<[^>]+>", "placeholder");
            gateway.With(key, isAddress ? stores.Backend.BaseAddress.ToString() : filled);
        }
        var client = await gateway.StartAsync();

        // The anonymous landing page, and a licensed call of the Domain API with a token that names no tenant.
        await (await client.SendAsync(Get(origin + "/"))).AssertForwardedAsync();
        var echo = await Echo.ReadAsync(await client.SendAsync(Get(origin + "/api/domain/odata/Items", TestTokens.User(null, user))));
        Assert.Equal(tenant, echo.Header("X-Licensing-Tenant"));
        Assert.Equal("/api/domain/odata/Items", echo.Path);
    }

    internal static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln"))) return Path.Combine(dir.FullName, relative);
        }
        throw new InvalidOperationException("The repository root (Gateway.sln) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>JSON as configuration keys (<c>a:b:0</c>), the way the JSON configuration provider reads it.</summary>
    private static IEnumerable<(string Key, string? Value)> Flatten(JsonElement element, string prefix)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                    foreach (var item in Flatten(property.Value, prefix.Length == 0 ? property.Name : prefix + ":" + property.Name)) yield return item;
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var child in element.EnumerateArray())
                    foreach (var item in Flatten(child, $"{prefix}:{i++}")) yield return item;
                break;
            case JsonValueKind.Null:
                yield return (prefix, null);
                break;
            default:
                yield return (prefix, element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText());
                break;
        }
    }
}
