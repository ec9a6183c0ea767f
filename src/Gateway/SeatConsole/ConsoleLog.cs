namespace Gateway.SeatConsole;

/// <summary>The console's log lines (event ids 2300-2329). None carries a token or a cookie.</summary>
internal sealed partial class ConsoleLog(ILogger<ConsoleLog> logger)
{
    public void SignedIn(string method, string? user, string? tenant, bool isOperator, bool isAdmin) =>
        LogSignedIn(logger, method, user ?? "unknown", tenant ?? "none", isOperator, isAdmin);

    public void SignedOut(string? user, string? tenant) => LogSignedOut(logger, user ?? "unknown", tenant ?? "none");

    public void SignInFailed(string reason) => LogSignInFailed(logger, reason);

    public void StoreUnavailable(Exception e) => LogStoreUnavailable(logger, e.GetType().Name);

    public void ProviderUnavailable(Exception e) => LogProviderUnavailable(logger, e.GetType().Name, e.Message);

    public void AntiforgeryRefused(string method, string path) => LogAntiforgeryRefused(logger, method, path);

    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "Console sign-in ({Method}) of {User}, tenant {Tenant}, operator {IsOperator}, admin {IsAdmin}")]
    private static partial void LogSignedIn(ILogger logger, string method, string user, string tenant, bool isOperator, bool isAdmin);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "Console sign-out of {User}, tenant {Tenant}")]
    private static partial void LogSignedOut(ILogger logger, string user, string tenant);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, Message = "A console sign-in could not be completed: {Reason}")]
    private static partial void LogSignInFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 2303, Level = LogLevel.Warning, Message = "The console's sign-in store did not answer ({Error}); answered 503")]
    private static partial void LogStoreUnavailable(ILogger logger, string error);

    [LoggerMessage(EventId = 2304, Level = LogLevel.Warning, Message = "The console's identity provider did not answer ({Error}: {Detail}); answered 503")]
    private static partial void LogProviderUnavailable(ILogger logger, string error, string detail);

    [LoggerMessage(EventId = 2305, Level = LogLevel.Information, Message = "Console change refused without a valid antiforgery token: {Method} {Path}")]
    private static partial void LogAntiforgeryRefused(ILogger logger, string method, string path);
}
