using System.Collections.Concurrent;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Hostile;

/// <summary>One log entry as the gateway wrote it: the formatted message, the structured values, the exception and the scopes.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, string State, string? Exception, string Scopes)
{
    /// <summary>Everything of the entry an operator's log pipeline could see, as one text.</summary>
    public string AllText => string.Join('\n', Category, EventId.Name, Message, State, Exception, Scopes);

    public override string ToString() => $"[{Level}] {Category}: {Printable.Shorten(Message, 300)}";
}

/// <summary>
/// An <see cref="ILoggerProvider"/> that keeps every entry at every level (Trace and up), including
/// scopes and exceptions, so a test can assert on what the gateway would write to its logs.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<CapturedLog> Entries => _entries.ToArray();

    public void Clear() => _entries.Clear();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    /// <summary>Adds this provider to a test host at the most verbose level, whatever the configuration says.</summary>
    public void AddTo(ILoggingBuilder logging)
    {
        logging.AddProvider(this);
        logging.SetMinimumLevel(LogLevel.Trace);
        logging.AddFilter<CapturedLogs>(category: null, LogLevel.Trace);
    }

    /// <summary>
    /// Adds this provider to a test host as one more logging provider: the configured levels
    /// (<c>Logging:LogLevel:*</c>, e.g. the shipped <c>appsettings.json</c>) decide what it receives.
    /// </summary>
    public void AddAtConfiguredLevels(ILoggingBuilder logging) => logging.AddProvider(this);

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join("; ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : state?.ToString() ?? "";
            var scopes = new List<string>();
            owner._scopes.ForEachScope(static (scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> kv) list.Add(string.Join("; ", kv.Select(p => $"{p.Key}={p.Value}")));
                else list.Add(scope?.ToString() ?? "");
            }, scopes);
            owner._entries.Enqueue(new CapturedLog(category, logLevel, eventId, formatter(state, exception), values, exception?.ToString(), string.Join(" | ", scopes)));
        }
    }
}
