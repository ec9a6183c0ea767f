// Bench-only helper for bench/run.sh.
//
//   TokenMint mint  --key BASE64 --issuer ISS --audience AUD --tenant T --users N [--user-prefix u] [--role R]
//                   [--tenant-count K] [--lifetime-seconds 7200] --out FILE
//       Writes N HS256 JWTs, one per line, for users {prefix}0..{prefix}N-1 of tenant T. With
//       --tenant-count K: N users in each of the tenants T0..T{K-1} (K·N lines), so one file can
//       spread sessions over many tenants.
//
//   TokenMint admit --url URL --tokens FILE --attempts N [--concurrency 32] [--device-prefix d]
//       Sends exactly N requests, request i with token i (mod the file's length) and
//       X-Device-Id {device-prefix}{i}: N distinct sessions asked for. Prints tab-separated
//       "status code count detail" lines (code and detail of the problem body, "-" for a 2xx or a
//       body without one; detail of the first such answer), so the caller can compare the admitted
//       count with the store's session count and tell a 429 seats-exhausted from other refusals.
//
//   TokenMint put-plans --url BASE --token OPERATOR_TOKEN --tenant T --tenant-count K --body JSON [--concurrency 16]
//       PUT BASE/_licensing/v1/tenants/T{j} with the JSON plan body for j in 0..K-1 (many small
//       tenants without one process per request). Prints "status count" lines.
//
// The signing key is generated per run by bench/run.sh; no key lives in the repository.
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

return args.Length > 0 && args[0] == "mint" ? Mint(Parse(args)) :
       args.Length > 0 && args[0] == "admit" ? await AdmitAsync(Parse(args)) :
       args.Length > 0 && args[0] == "put-plans" ? await PutPlansAsync(Parse(args)) :
       Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: TokenMint mint --key B64 --issuer I --audience A --tenant T --users N --out FILE");
    Console.Error.WriteLine("       TokenMint admit --url URL --tokens FILE --attempts N [--concurrency C] [--device-prefix P]");
    Console.Error.WriteLine("       TokenMint put-plans --url BASE --token T --tenant T --tenant-count K --body JSON [--concurrency C]");
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
    var tenantCount = o.TryGetValue("tenant-count", out var k) ? int.Parse(k) : 0;
    var tenants = tenantCount == 0 ? [tenant] : Enumerable.Range(0, tenantCount).Select(j => tenant + j.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    var header = Base64Url(Encoding.UTF8.GetBytes("""{"alg":"HS256","typ":"JWT"}"""));
    using var hmac = new HMACSHA256(key);
    using var output = new StreamWriter(Required(o, "out"), append: false, new UTF8Encoding(false), 1 << 16);
    foreach (var tid in tenants)
    for (var i = 0; i < users; i++)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["aud"] = audience,
            ["sub"] = prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["tid"] = tid,
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
    var answers = new ConcurrentDictionary<(int Status, string Code), int>();
    var details = new ConcurrentDictionary<(int Status, string Code), string>();
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
            string code = "-", detail = "-";
            try
            {
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsByteArrayAsync();
                status = (int)response.StatusCode;
                if (status >= 300) (code, detail) = ProblemOf(body);
            }
            catch (HttpRequestException)
            {
                status = 0;
            }
            answers.AddOrUpdate((status, code), 1, (_, c) => c + 1);
            details.TryAdd((status, code), detail);
        }
    }).ToArray();
    await Task.WhenAll(workers);
    foreach (var (key, count) in answers.OrderBy(p => p.Key.Status).ThenBy(p => p.Key.Code, StringComparer.Ordinal))
        Console.WriteLine($"{key.Status}\t{key.Code}\t{count}\t{details[key]}");
    return 0;
}

// The problem code and detail of an error body, so a refusal's reason is counted, not guessed.
static (string Code, string Detail) ProblemOf(byte[] body)
{
    try
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var code = root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "-";
        var detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "-";
        return (code, detail.ReplaceLineEndings(" ").Replace('\t', ' '));
    }
    catch (JsonException)
    {
        return ("-", "-");
    }
}

static async Task<int> PutPlansAsync(Dictionary<string, string> o)
{
    var baseUrl = Required(o, "url").TrimEnd('/');
    var token = Required(o, "token");
    var prefix = Required(o, "tenant");
    var count = int.Parse(Required(o, "tenant-count"));
    var body = Required(o, "body");
    var concurrency = int.Parse(o.GetValueOrDefault("concurrency", "16"));

    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseCookies = false });
    var statuses = new ConcurrentDictionary<int, int>();
    var next = -1;
    var workers = Enumerable.Range(0, concurrency).Select(async _ =>
    {
        int j;
        while ((j = Interlocked.Increment(ref next)) < count)
        {
            var tenant = prefix + j.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var request = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/_licensing/v1/tenants/{tenant}")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            int status;
            try
            {
                using var response = await client.SendAsync(request);
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
    foreach (var (status, tenants) in statuses.OrderBy(p => p.Key)) Console.WriteLine($"{status} {tenants}");
    return 0;
}
