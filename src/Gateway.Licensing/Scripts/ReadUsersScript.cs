using System.Globalization;
using Gateway.Licensing.Results;
using StackExchange.Redis;

namespace Gateway.Licensing.Scripts;

/// <summary>
/// <c>read_users.lua</c> (read-only): one page of the tenant's users in lexical order of their ids. Its
/// header, mirrored:
/// <code>
/// ARGV[4] cursor: the last user id of the previous page ('' = from the start), [5] page size,
/// [6] filter: '' = all, '1' = active only, '0' = inactive only, [7] how many users one call may
/// examine at most.
/// Reply: { nextCursor ('' = no more users), then per user: id, active (0|1), live sessions, lastSeenMs ('' = never) }
/// </code>
/// </summary>
internal static class ReadUsersScript
{
    public static readonly StoreScript Script = StoreScript.Load("read_users");

    private const int PerUser = 4;

    // After: the last user id of the previous page; null = from the start.
    // Active: only active (true) or inactive (false) users; null = all.
    // ExamineAtMost: the most users the call may examine (a filtered page may come back short).
    public readonly record struct Arguments(string? After, int Limit, bool? Active, int ExamineAtMost);

    public static ScriptCall Call(string tenant, in ScriptContext context, in Arguments args)
    {
        var call = ScriptCall.For(Script, tenant, context, 4);
        call.Argv[3] = args.After ?? "";
        call.Argv[4] = args.Limit;
        call.Argv[5] = args.Active switch { true => "1", false => "0", null => "" };
        call.Argv[6] = args.ExamineAtMost;
        return call;
    }

    public static UserPage Parse(RedisResult[] reply)
    {
        var users = new List<UserRecord>((reply.Length - 1) / PerUser);
        for (var i = 1; i + PerUser - 1 < reply.Length; i += PerUser)
        {
            var seen = (string?)reply[i + 3];
            users.Add(new UserRecord(
                (string)reply[i]!,
                (long)reply[i + 1] == 1,
                (int)(long)reply[i + 2],
                string.IsNullOrEmpty(seen) ? null : DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(seen, CultureInfo.InvariantCulture))));
        }
        var next = (string?)reply[0];
        return new UserPage(users, string.IsNullOrEmpty(next) ? null : next);
    }
}
