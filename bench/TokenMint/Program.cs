// Bench-only helper for bench/run.sh.
//
//   TokenMint mint  --key BASE64 --issuer ISS --audience AUD --tenant T --users N [--user-prefix u] [--role R]
//                   [--lifetime-seconds 7200] --out FILE
//       Writes N HS256 JWTs, one per line, for users {prefix}0..{prefix}N-1 of tenant T.
//
//   TokenMint admit --url URL --tokens FILE --attempts N [--concurrency 32] [--device-prefix d]
//       Sends exactly N requests, request i with token i (mod the file's length) and
//       X-Device-Id {device-prefix}{i}: N distinct sessions asked for. Prints "status count" lines,
//       so the caller can compare the admitted count with the store's session count.
//
// The signing key is generated per run by bench/run.sh; no key lives in the repository.
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

return args.Length > 0 && args[0] == "mint" ? Mint(Parse(args)) :
       args.Length > 0 && args[0] == "admit" ? await AdmitAsync(Parse(args)) :
       Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: TokenMint mint --key B64 --issuer I --audience A --tenant T --users N --out FILE");
    Console.Error.WriteLine("       TokenMint admit --url URL --tokens FILE --attempts N [--concurrency C] [--device-prefix P]");
    return 2;
}

static Dictionary<string, string> Parse(string[] args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 1; i + 1 < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
        options[args[i][2..]] = args[i + 1];
    }
    return options;
}

static string Required(Dictionary<string, string> o, string name) =>
    o.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required.");

static int Mint(Dictionary<string, string> o)
{
    var key = Convert.FromBase64String(Required(o, "key"));
    var issuer = Required(o, "issuer");
    var audience = Required(o, "audience");
    var tenant = Required(o, "tenant");
    var users = int.Parse(Required(o, "users"));
    var prefix = o.GetValueOrDefault("user-prefix", "u");
    var lifetime = long.Parse(o.GetValueOrDefault("lifetime-seconds", "7200"));
    var role = o.GetValueOrDefault("role");
    var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    var header = Base64Url(Encoding.UTF8.GetBytes("""{"alg":"HS256","typ":"JWT"}"""));
    using var hmac = new HMACSHA256(key);
    using var output = new StreamWriter(Required(o, "out"), append: false, new UTF8Encoding(false), 1 << 16);
    for (var i = 0; i < users; i++)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["aud"] = audience,
            ["sub"] = prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["tid"] = tenant,
            ["iat"] = now,
            ["nbf"] = now - 60,
            ["exp"] = now + lifetime,
        };
        if (role is not null) claims["role"] = role;
        var payload = JsonSerializer.SerializeToUtf8Bytes(claims);
        var signingInput = header + "." + Base64Url(payload);
        var signature = hmac.ComputeHash(Encoding.ASCII.GetBytes(signingInput));
        output.Write(signingInput);
        output.Write('.');
        output.Write(Base64Url(signature));
        output.Write('\n');
    }
    return 0;
}

static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

static async Task<int> AdmitAsync(Dictionary<string, string> o)
{
    var url = Required(o, "url");
    var tokens = File.ReadAllLines(Required(o, "tokens")).Where(l => l.Length > 0).ToArray();
    var attempts = int.Parse(Required(o, "attempts"));
    var concurrency = int.Parse(o.GetValueOrDefault("concurrency", "32"));
    var devicePrefix = o.GetValueOrDefault("device-prefix", "d");

    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseCookies = false });
    var statuses = new ConcurrentDictionary<int, int>();
    var next = -1;
    var workers = Enumerable.Range(0, concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < attempts)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + tokens[i % tokens.Length]);
            request.Headers.TryAddWithoutValidation("X-Device-Id", devicePrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            int status;
            try
            {
                using var response = await client.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                status = (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                status = 0;
            }
            statuses.AddOrUpdate(status, 1, (_, c) => c + 1);
        }
    }).ToArray();
    await Task.WhenAll(workers);
    foreach (var (status, count) in statuses.OrderBy(p => p.Key)) Console.WriteLine($"{status} {count}");
    return 0;
}
