using Gateway.Licensing.Results;
using Gateway.Licensing.Sessions;
using Gateway.Problems;

namespace Gateway.Proxy;

/// <summary>The <c>X-Licensing-*</c> headers: the gateway's alone, never taken from a caller.</summary>
internal static class LicensingHeaders
{
    public const string Prefix = "X-Licensing-";
    public const string Session = "X-Licensing-Session";
    public const string Tenant = "X-Licensing-Tenant";

    /// <summary>
    /// On a request of a session admitted in shadow mode over a would-be refusal: the problem <c>code</c>
    /// enforcement would have answered (<c>seats-exhausted</c>, <c>user-sessions-exhausted</c>, <c>user-inactive</c>).
    /// </summary>
    public const string Shadow = "X-Licensing-Shadow";

    /// <summary>
    /// Removes every inbound <c>X-Licensing-*</c> header, also when spelled with underscores
    /// (<c>X_Licensing_Session</c>): servers and frameworks that expose headers as CGI-style variables
    /// (<c>HTTP_X_LICENSING_SESSION</c>) cannot tell the two spellings apart.
    /// </summary>
    public static void RemoveInbound(IHeaderDictionary headers)
    {
        List<string>? found = null;
        foreach (var header in headers)
        {
            if (IsLicensingHeader(header.Key)) (found ??= []).Add(header.Key);
        }
        if (found is null) return;
        foreach (var name in found) headers.Remove(name);
    }

    /// <summary>Whether <paramref name="name"/> starts with <c>X-Licensing-</c>, ignoring case and reading '_' as '-'.</summary>
    internal static bool IsLicensingHeader(string name)
    {
        if (name.Length < Prefix.Length) return false;
        for (var i = 0; i < Prefix.Length; i++)
        {
            var c = name[i] == '_' ? '-' : name[i];
            if (char.ToLowerInvariant(c) != char.ToLowerInvariant(Prefix[i])) return false;
        }
        return true;
    }

    /// <summary>Adds the session id and tenant to the request the proxy forwards.</summary>
    public static void SetForwarded(IHeaderDictionary headers, string sessionId, string tenant)
    {
        headers[Session] = sessionId;
        headers[Tenant] = tenant;
    }

    /// <summary>
    /// Marks a request of a session that enforcement would have refused (shadow mode) with the refusal's
    /// problem code. A would-be preemption is not marked: it would have ended another session, not this one.
    /// </summary>
    public static void SetShadow(IHeaderDictionary headers, AdmissionOutcome wouldBe)
    {
        var code = wouldBe switch
        {
            AdmissionOutcome.SeatsExhausted => ProblemCodes.SeatsExhausted,
            AdmissionOutcome.UserSessionsExhausted => ProblemCodes.UserSessionsExhausted,
            AdmissionOutcome.UserInactive => ProblemCodes.UserInactive,
            _ => null,
        };
        if (code is not null) headers[Shadow] = code;
    }
}
