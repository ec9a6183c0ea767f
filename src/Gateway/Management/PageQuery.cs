using Gateway.Licensing.Results;
using System.Buffers.Text;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using Gateway.Licensing.Identity;
using Gateway.Licensing.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Management;

/// <summary>
/// Query parameters a route checks before it touches the store. The tenant routes' filter
/// (<see cref="TenantRouteFilter"/>) asks every such argument in the order the handler declares them
/// and answers the first problem; routes outside the tenant group ask themselves, after their own
/// authorization.
/// </summary>
internal interface IRequestCheck
{
    ProblemHttpResult? Check(HttpContext context);
}

/// <summary>How a list's <c>cursor</c> is read: each list pages by its own key.</summary>
internal interface IPageCursor<TSelf> where TSelf : IPageCursor<TSelf>
{
    static abstract bool TryParse(string text, out TSelf cursor);
}

/// <summary>
/// <c>?limit=&amp;cursor=</c> of every list, bound with <c>[AsParameters]</c>: the page size (default
/// <see cref="ManagementApi.DefaultPageSize"/>) and the position after which the page starts.
/// </summary>
internal sealed record PageQuery<TCursor>(
    [property: FromQuery(Name = "limit"), Description("Page size, 1 to 1000; default 100.")] string? Limit,
    [property: FromQuery(Name = "cursor"), Description("nextCursor of the previous page.")] string? Cursor)
    : IRequestCheck where TCursor : struct, IPageCursor<TCursor>
{
    /// <summary>The page size; valid once <see cref="Check"/> answered no problem.</summary>
    public int Size { get; private set; } = ManagementApi.DefaultPageSize;

    /// <summary>Where the page starts; null for the first page. Valid once <see cref="Check"/> answered no problem.</summary>
    public TCursor? After { get; private set; }

    /// <summary>The limit first, then the cursor.</summary>
    public ProblemHttpResult? Check(HttpContext context)
    {
        if (Limit is not null)
        {
            if (!int.TryParse(Limit, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size is < 1 or > LicenseQueries.MaxPageSize)
                return Problems.Invalid($"limit must be an integer from 1 to {LicenseQueries.MaxPageSize}.");
            Size = size;
        }
        if (Cursor is not null)
        {
            if (!TCursor.TryParse(Cursor, out var after)) return Problems.Invalid("cursor is not a cursor this API returned.");
            After = after;
        }
        return null;
    }
}

/// <summary>The cursors the API hands out that are not a raw id: base64url text, so any id survives a query string.</summary>
internal static class OpaqueCursor
{
    private const int MaxLength = 1024;

    public static string Encode(string value) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(value));

    public static bool TryDecode(string cursor, out string value)
    {
        value = "";
        if (cursor.Length is 0 or > MaxLength) return false;
        try
        {
            value = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>The tenant list's cursor: the last tenant id of the previous page.</summary>
internal readonly record struct TenantCursor(string Tenant) : IPageCursor<TenantCursor>
{
    public static bool TryParse(string text, out TenantCursor cursor)
    {
        var ok = OpaqueCursor.TryDecode(text, out var tenant) && IdentityRules.IsValidTenant(tenant);
        cursor = new TenantCursor(ok ? tenant : "");
        return ok;
    }

    public static string Encode(string lastTenant) => OpaqueCursor.Encode(lastTenant);
}

/// <summary>The user list's cursor: the last user id of the previous page.</summary>
internal readonly record struct UserCursor(string User) : IPageCursor<UserCursor>
{
    public static bool TryParse(string text, out UserCursor cursor)
    {
        var ok = OpaqueCursor.TryDecode(text, out var user) && IdentityRules.IsValidId(user);
        cursor = new UserCursor(ok ? user : "");
        return ok;
    }

    public static string Encode(string lastUser) => OpaqueCursor.Encode(lastUser);
}

/// <summary>The session lists' cursor: the last session id of the previous page, as it is (session ids are URL-safe).</summary>
internal readonly record struct SessionCursor(string SessionId) : IPageCursor<SessionCursor>
{
    public static bool TryParse(string text, out SessionCursor cursor)
    {
        var ok = SessionIdentity.IsWellFormedSessionId(text);
        cursor = new SessionCursor(ok ? text : "");
        return ok;
    }
}

/// <summary>The audit trail's cursor: the store time of the last entry and how many entries at that time were already listed.</summary>
internal readonly record struct AuditPageCursor(AuditCursor Position) : IPageCursor<AuditPageCursor>
{
    public static bool TryParse(string text, out AuditPageCursor cursor)
    {
        cursor = default;
        if (!OpaqueCursor.TryDecode(text, out var decoded)) return false;
        var colon = decoded.IndexOf(':');
        if (colon <= 0
            || !long.TryParse(decoded.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var at)
            || !int.TryParse(decoded.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var skip)) return false;
        cursor = new AuditPageCursor(new AuditCursor(at, skip));
        return true;
    }

    public static string Encode(AuditCursor next) => OpaqueCursor.Encode(FormattableString.Invariant($"{next.AtMs}:{next.Skip}"));
}
