using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Authentication;

/// <summary>JwtBearer's own token handler, counting full validations and remembering (weakly) the last token it validated.</summary>
internal sealed class CountingTokenHandler : TokenHandler
{
    private readonly JsonWebTokenHandler _inner = new();
    public int Calls;
    public WeakReference<SecurityToken>? LastValidated;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        Interlocked.Increment(ref Calls);
        var result = await _inner.ValidateTokenAsync(token, validationParameters);
        if (result.SecurityToken is { } validated) LastValidated = new WeakReference<SecurityToken>(validated);
        return result;
    }

    public override SecurityToken ReadToken(string token) => _inner.ReadToken(token);
}
