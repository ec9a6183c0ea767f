using Microsoft.Extensions.Options;

namespace Gateway.Licensing.Tests.Support;

/// <summary>An options monitor over a value the test may change between calls.</summary>
public sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue { get; set; } = value;

    public T Get(string? name) => CurrentValue;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
