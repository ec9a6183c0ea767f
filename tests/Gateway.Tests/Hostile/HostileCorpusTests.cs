using Gateway.Licensing.Rules;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Issue 5, item 5: every case of <see cref="HostileCorpus"/> against the real gateway on Kestrel.
/// Each answer is the expected 4xx (a problem+json with a code, a 401 bearer challenge, or Kestrel's
/// own 400/414/431), or — where the id rules make the odd value legal — an admission; never a 5xx, never a
/// hang; the store is unchanged and the gateway still live afterwards.
/// </summary>
public sealed class HostileCorpusTests(HostileCorpusTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<HostileCorpusTests.Fixture>
{
    public sealed class Fixture : KestrelGatewayFixture
    {
        protected override void ConfigureGateway(GatewayFactory gateway) =>
            gateway.WithTenant(HostileCorpus.Tenant, LicenseModel.ConcurrentSessions, 100_000);

        protected override Task OnStartedAsync() => HostileCorpus.SeedAsync(this);
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in HostileCorpus.All) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_request_gets_its_4xx_or_its_specified_answer_never_a_5xx_and_the_store_is_unchanged(string name)
    {
        var hostile = HostileCorpus.Get(name);
        await HostileRunner.RunAsync(fixture, hostile.Build(), hostile.Expected, name);
    }

    [Fact]
    public void The_corpus_has_unique_names_and_covers_every_kind_of_answer()
    {
        Assert.Equal(HostileCorpus.All.Count, HostileCorpus.All.Select(c => c.Name).Distinct().Count());
        foreach (var group in HostileCorpus.All.GroupBy(c => c.Expected.Answer).OrderBy(g => g.Key))
            output.WriteLine($"{group.Key}: {group.Count()}");
        output.WriteLine($"total: {HostileCorpus.All.Count}");
        Assert.All(Enum.GetValues<Answer>(), a => Assert.Contains(HostileCorpus.All, c => c.Expected.Answer == a));
    }
}
