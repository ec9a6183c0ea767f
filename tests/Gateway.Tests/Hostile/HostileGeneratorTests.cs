using System.Diagnostics;
using System.Globalization;
using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Issue 5, item 5: a randomized, seeded, bounded run of <see cref="HostileGenerator"/> against the
/// real gateway on Kestrel, with the corpus's assertions on each request. The seed is printed; set
/// <c>HOSTILE_SEED</c> to replay a failure or to try another sequence, <c>HOSTILE_CASES</c> to change
/// the number of requests (at most 20000).
/// </summary>
public sealed class HostileGeneratorTests(HostileGeneratorTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<HostileGeneratorTests.Fixture>
{
    public const int DefaultSeed = 5_0505;
    public const int DefaultCases = 500;

    public sealed class Fixture : KestrelGatewayFixture
    {
        protected override void ConfigureGateway(GatewayFactory gateway) =>
            gateway.WithTenant(HostileCorpus.Tenant, LicenseModel.ConcurrentSessions, 100_000);

        protected override Task OnStartedAsync() => HostileCorpus.SeedAsync(this);
    }

    [Fact]
    public async Task Random_hostile_requests_get_the_answer_the_spec_predicts_never_a_5xx_and_leave_the_store_as_specified()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        var count = int.TryParse(Environment.GetEnvironmentVariable("HOSTILE_CASES"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? Math.Clamp(n, 1, 20_000) : DefaultCases;
        output.WriteLine($"seed {seed}, {count} requests (HOSTILE_SEED / HOSTILE_CASES override)");

        var generator = new HostileGenerator(seed);
        var answers = new Dictionary<string, int>();
        var statuses = new Dictionary<int, int>();
        var elapsed = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var generated = generator.Next(i);
            var expected = HostileGenerator.Predict(generated);
            var response = await HostileRunner.RunAsync(fixture, HostileGenerator.Build(generated), expected, $"seed {seed} {generated}");
            answers[expected.ToString()] = answers.GetValueOrDefault(expected.ToString()) + 1;
            statuses[response.Status] = statuses.GetValueOrDefault(response.Status) + 1;
        }

        output.WriteLine($"{count} requests in {elapsed.Elapsed.TotalSeconds:F1} s; 5xx: {statuses.Where(x => x.Key >= 500).Sum(x => x.Value)}");
        foreach (var (answer, times) in answers.OrderByDescending(a => a.Value)) output.WriteLine($"  {times,4} × {answer}");
        Assert.DoesNotContain(statuses.Keys, status => status >= 500);
    }
}
