using System.Net;
using System.Net.Http.Json;

namespace Gateway.Tests.Infrastructure;

public sealed class LoopbackBackendTests : IClassFixture<LoopbackBackend>
{
    private readonly LoopbackBackend _backend;

    public LoopbackBackendTests(LoopbackBackend backend)
    {
        _backend = backend;
        _backend.Clear();
    }

    [Fact]
    public async Task Echoes_the_request_it_received_and_records_it()
    {
        using var client = new HttpClient { BaseAddress = _backend.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/domain/odata/Customers?$top=1");
        request.Headers.Add("X-Licensing-Session", "s-123");
        request.Headers.Authorization = new("Bearer", "token-value");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echoed = await response.Content.ReadFromJsonAsync<EchoedRequest>();
        Assert.NotNull(echoed);
        Assert.Equal("/api/domain/odata/Customers", echoed.Path);
        Assert.Equal("GET", echoed.Method);
        Assert.Equal("?$top=1", echoed.Query);
        Assert.Equal("s-123", new Dictionary<string, string>(echoed.Headers, StringComparer.OrdinalIgnoreCase)["x-licensing-session"]);

        var received = Assert.Single(_backend.Received);
        Assert.Equal("/api/domain/odata/Customers", received.Path);
        Assert.Equal("s-123", received.Header("X-Licensing-Session"));
        Assert.Equal("Bearer token-value", received.Header("authorization"));
    }

    [Theory]
    [InlineData(204)]
    [InlineData(302)]
    [InlineData(500)]
    public async Task Status_path_answers_with_that_status(int status)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _backend.BaseAddress };

        using var response = await client.PostAsync($"/status/{status}", new StringContent("payload"));

        Assert.Equal(status, (int)response.StatusCode);
        var received = Assert.Single(_backend.Received);
        Assert.Equal("POST", received.Method);
        Assert.Equal("payload", received.Body);
    }
}
