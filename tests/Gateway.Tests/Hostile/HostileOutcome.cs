using System.Text.RegularExpressions;

namespace Gateway.Tests.Hostile;

/// <summary>How the gateway must answer a hostile request.</summary>
public enum Answer
{
    /// <summary>401 with a <c>WWW-Authenticate: Bearer</c> challenge; nothing forwarded, store unchanged.</summary>
    Challenge,

    /// <summary>A problem+json answer with this status and <c>code</c>; nothing forwarded, store unchanged.</summary>
    Problem,

    /// <summary>Kestrel refused the bytes before any gateway code ran (400 syntax, 414 request line, 431 headers); store unchanged.</summary>
    Server,

    /// <summary>
    /// Valid by the id rules despite the odd value (e.g. <c>{</c> or <c>*</c> are printable ASCII, allowed in user
    /// and device ids): admitted and forwarded with the gateway's headers; the store holds no key but the
    /// tenants' fixed key sets.
    /// </summary>
    Forwarded,

    /// <summary>An <c>Off</c> or <c>Release</c> route: forwarded without admitting; store unchanged.</summary>
    PassedThrough,

    /// <summary>
    /// A <c>Release</c> route with a valid identity: forwarded with the gateway's headers for that
    /// tenant; the caller's session, if any, ends, so only that tenant's keys may change.
    /// </summary>
    Released,

    /// <summary>A management change that is valid for the management API (an odd but legal user id): only the addressed tenant's keys change.</summary>
    Applied,

    /// <summary>A management read that is valid (e.g. the operator's tenant list): 200 JSON; nothing forwarded, store unchanged.</summary>
    Read,
}

/// <summary>The expected answer of one hostile request.</summary>
public sealed record Outcome(Answer Answer, int Status, string? Code = null, string? Tenant = null)
{
    public static readonly Outcome Challenge = new(Answer.Challenge, 401);
    public static readonly Outcome Forwarded = new(Answer.Forwarded, 200);
    public static readonly Outcome PassedThrough = new(Answer.PassedThrough, 200);
    public static readonly Outcome InvalidIdentity = Problem(400, "invalid-identity");
    public static readonly Outcome InvalidRequest = Problem(400, "invalid-request");
    public static readonly Outcome NotFound = Problem(404, "not-found");
    public static readonly Outcome Read = new(Answer.Read, 200);

    public static Outcome Problem(int status, string code) => new(Answer.Problem, status, code);

    public static Outcome Server(int status) => new(Answer.Server, status);

    public static Outcome Applied(int status, string tenant) => new(Answer.Applied, status, Tenant: tenant);

    public static Outcome Released(string tenant) => new(Answer.Released, 200, Tenant: tenant);

    /// <summary>Whether the store must be exactly as before.</summary>
    public bool StoreUnchanged => Answer is not (Answer.Forwarded or Answer.Applied or Answer.Released);

    public override string ToString() => Answer switch
    {
        Answer.Problem => $"{Status} {Code}",
        Answer.Applied => $"{Status} applied to {Tenant}",
        Answer.Released => $"{Status} released in {Tenant}",
        _ => $"{Status} {Answer}",
    };
}

/// <summary>The documented id rules (docs/configuration.md), written out independently of the product's <c>IdentityRules</c>, as the tests' oracle.</summary>
public static partial class IdOracle
{
    /// <summary>Tenant ids match <c>^[A-Za-z0-9._-]{1,64}$</c> (the whole value: no trailing newline).</summary>
    public static bool IsTenant(string value) => TenantPattern().IsMatch(value);

    /// <summary>User and device ids are 1–128 printable ASCII characters (U+0020–U+007E).</summary>
    public static bool IsId(string value) => value.Length is >= 1 and <= 128 && value.All(c => c is >= ' ' and <= '~');

    [GeneratedRegex(@"\A[A-Za-z0-9._-]{1,64}\z")]
    private static partial Regex TenantPattern();

    /// <summary>
    /// What Kestrel does with a header value before the gateway sees it: a NUL, CR or LF breaks the
    /// request (400); leading and trailing spaces and tabs are not part of the value.
    /// </summary>
    public static bool BreaksHeaderSyntax(string value) => value.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0;

    public static string AsHeaderValue(string value) => value.Trim(' ', '\t');

    /// <summary>Kestrel's default limit of the request line (method, target, version): 8 KiB, else 414.</summary>
    public static bool RequestLineTooLong(string method, string target) => method.Length + 1 + target.Length + " HTTP/1.1\r\n".Length > 8192;
}
