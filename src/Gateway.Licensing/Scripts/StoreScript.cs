using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// One Lua script with its SHA-1 computed once. Calls go out as EVALSHA with the precomputed hash
/// (no hashing or lookup of the script text per call); a store that does not know the script yet
/// (NOSCRIPT: first use, or after a restart or failover) gets it once with EVAL, which also loads it.
/// </summary>
internal sealed class StoreScript
{
    public StoreScript(string text)
    {
        Text = text;
        Hash = SHA1.HashData(Encoding.UTF8.GetBytes(text));
    }

    public string Text { get; }

    public byte[] Hash { get; }

    /// <summary>
    /// The script <paramref name="name"/> (<c>admit</c> for <c>Scripts/admit.lua</c>) from the embedded
    /// resources, after the shared prelude <c>common.lua</c>, so the same rules are written once.
    /// </summary>
    public static StoreScript Load(string name) => new(Read("common") + "\n" + Read(name));

    public async Task<RedisResult> EvaluateAsync(IDatabase db, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await db.ScriptEvaluateAsync(Hash, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.OrdinalIgnoreCase))
        {
            return await db.ScriptEvaluateAsync(Text, keys, args).ConfigureAwait(false);
        }
    }

    private static string Read(string name)
    {
        var resource = $"Gateway.Licensing.Scripts.{name}.lua";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded script {resource} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
