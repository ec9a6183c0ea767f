using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Licensing.Embedded;
using Gateway.Licensing.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Gateway.Licensing.Tests.Embedded;

/// <summary>
/// The embedded Garnet must behave like the Redis the licensing scripts are written for:
/// atomic scripts, data that survives a restart, pub/sub, and the Lua surface those scripts use.
/// Each test starts its own server on its own temporary data directory.
/// </summary>
public sealed class EmbeddedRedisServerTests(ITestOutputHelper output)
{
    private const string AdmitScript =
        "if redis.call('ZCARD', KEYS[1]) < 20 then redis.call('ZADD', KEYS[1], 1, ARGV[1]) return 1 end return 0";

    [Fact]
    public async Task Start_listens_on_loopback_and_reports_its_port()
    {
        using var dir = new TempDir();
        await using var server = EmbeddedRedisServer.Start(dir.Path);

        Assert.InRange(server.Port, 1, 65535);
        Assert.StartsWith($"127.0.0.1:{server.Port},password=", server.ConnectionString);
        await using var mux = await ConnectAsync(server);
        Assert.True(await mux.GetDatabase().PingAsync() < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_local_process_without_the_per_start_password_is_refused()
    {
        // Any local process could reach the loopback port and change plans behind the API, unaudited.
        using var dir = new TempDir();
        await using var server = EmbeddedRedisServer.Start(dir.Path);

        Assert.StartsWith("-NOAUTH", await SendRawAsync(server.Port, "PING"));
        Assert.StartsWith("-NOAUTH", await SendRawAsync(server.Port, "SET", "lic:{t}:plan", "x"));
        Assert.StartsWith("-", await SendRawAsync(server.Port, "AUTH", "wrong-password"));
        await using var mux = await ConnectAsync(server); // the connection string carries the password
        Assert.True(await mux.GetDatabase().PingAsync() < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Each_start_uses_a_new_password()
    {
        using var dir = new TempDir();
        string first;
        await using (var server = EmbeddedRedisServer.Start(dir.Path)) first = server.ConnectionString;
        await using var again = EmbeddedRedisServer.Start(dir.Path);
        Assert.Contains("password=", again.ConnectionString);
        Assert.NotEqual(first, again.ConnectionString.Replace($":{again.Port},", ":0,"));
        Assert.NotEqual(Password(first), Password(again.ConnectionString));

        static string Password(string connectionString) =>
            connectionString.Split(',').Single(p => p.StartsWith("password=", StringComparison.Ordinal));
    }

    /// <summary>One command as a plain local process would send it, without any client library.</summary>
    private static async Task<string> SendRawAsync(int port, params string[] command)
    {
        var resp = new System.Text.StringBuilder($"*{command.Length}\r\n");
        foreach (var part in command) resp.Append($"${part.Length}\r\n{part}\r\n");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(resp.ToString()));
        var buffer = new byte[512];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
    }

    [Fact]
    public async Task Start_uses_an_explicit_port()
    {
        using var dir = new TempDir();
        var port = FreePort();
        await using var server = EmbeddedRedisServer.Start(dir.Path, port);

        Assert.Equal(port, server.Port);
        await using var mux = await ConnectAsync(server);
        Assert.Equal("v", (string?)await EvalAsync(mux.GetDatabase(), "redis.call('SET', KEYS[1], 'v') return redis.call('GET', KEYS[1])", "lic:{t}:k"));
    }

    [Fact]
    public void Start_on_a_port_another_process_holds_fails_instead_of_sharing_it()
    {
        using var dir = new TempDir();
        var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        try
        {
            var port = ((IPEndPoint)holder.LocalEndpoint).Port;
            var ex = Assert.ThrowsAny<Exception>(() => EmbeddedRedisServer.Start(dir.Path, port).Dispose());
            Assert.Contains("AddressAlreadyInUse", ex.ToString());
        }
        finally
        {
            holder.Stop();
        }
    }

    [Fact]
    public async Task Concurrent_check_then_admit_scripts_never_over_admit()
    {
        using var dir = new TempDir();
        await using var server = EmbeddedRedisServer.Start(dir.Path);
        var muxes = new ConnectionMultiplexer[8];
        for (var i = 0; i < muxes.Length; i++)
            muxes[i] = await ConnectAsync(server);
        try
        {
            var sw = Stopwatch.StartNew();
            for (var round = 0; round < 30; round++)
            {
                var key = $"lic:{{t}}:round{round}";
                var calls = Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
                {
                    var db = muxes[i % muxes.Length].GetDatabase();
                    return (int)await db.ScriptEvaluateAsync(AdmitScript, [key], [$"s{i}"]);
                }));
                var admitted = (await Task.WhenAll(calls)).Sum();

                Assert.Equal(20, admitted);
                Assert.Equal(20, await muxes[0].GetDatabase().SortedSetLengthAsync(key));
            }
            output.WriteLine($"30 rounds x 400 scripts over {muxes.Length} connections: {sw.ElapsedMilliseconds} ms");
        }
        finally
        {
            foreach (var mux in muxes)
                await mux.DisposeAsync();
        }
    }

    [Fact]
    public async Task Data_written_by_scripts_survives_a_restart_on_the_same_path()
    {
        using var dir = new TempDir();
        const string write = """
            redis.call('HSET', KEYS[1], 'tenant', 'acme', 'seats', '5')
            redis.call('ZADD', KEYS[2], 1732770000123, 'sess-1', 1732770000456, 'sess-2')
            redis.call('SADD', KEYS[3], 'dev-a', 'dev-b')
            redis.call('SET', KEYS[4], 'soon-gone')
            redis.call('PEXPIRE', KEYS[1], 600000)
            redis.call('PEXPIRE', KEYS[4], 150)
            return 1
            """;
        RedisKey[] keys = ["lic:{t}:plan", "lic:{t}:sessions", "lic:{t}:devices", "lic:{t}:short"];

        await using (var first = EmbeddedRedisServer.Start(dir.Path))
        await using (var mux = await ConnectAsync(first))
        {
            Assert.Equal(1, (int)await mux.GetDatabase().ScriptEvaluateAsync(write, keys));
        }
        await Task.Delay(300); // let the short TTL pass while no server runs

        await using var second = EmbeddedRedisServer.Start(dir.Path);
        await using var mux2 = await ConnectAsync(second);
        var db = mux2.GetDatabase();

        Assert.Equal("acme", (string?)await db.HashGetAsync(keys[0], "tenant"));
        Assert.Equal("5", (string?)await db.HashGetAsync(keys[0], "seats"));
        var ttl = await db.KeyTimeToLiveAsync(keys[0]);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.Equal((double?)1732770000123, await db.SortedSetScoreAsync(keys[1], "sess-1"));
        Assert.Equal(2, await db.SortedSetLengthAsync(keys[1]));
        Assert.True(await db.SetContainsAsync(keys[2], "dev-b"));
        Assert.Equal(2, await db.SetLengthAsync(keys[2]));
        Assert.False(await db.KeyExistsAsync(keys[3]));
    }

    [Fact]
    public async Task A_checkpoint_truncates_the_append_only_log_and_keeps_the_data()
    {
        using var dir = new TempDir();
        long before, after;
        await using (var server = EmbeddedRedisServer.Start(dir.Path))
        await using (var mux = await ConnectAsync(server))
        {
            var db = mux.GetDatabase();
            // Many overwrites of few keys: the log grows, the data does not.
            for (var round = 0; round < 200; round++)
            {
                await Task.WhenAll(Enumerable.Range(0, 500).Select(i => db.HashSetAsync("lic:{t}:sessions", $"s{i}", new string('x', 400) + round)));
            }
            before = LogBytes(dir.Path);
            await db.ExecuteAsync("SAVE");
            await Task.Delay(1000);
            await db.HashSetAsync("lic:{t}:sessions", "after-save", "1");
            await db.ExecuteAsync("COMMITAOF");
            await Task.Delay(500);
            after = LogBytes(dir.Path);
        }
        Assert.True(after < before / 2, $"log {before} bytes before the checkpoint, {after} after");

        await using var again = EmbeddedRedisServer.Start(dir.Path);
        await using var mux2 = await ConnectAsync(again);
        Assert.Equal(501, await mux2.GetDatabase().HashLengthAsync("lic:{t}:sessions"));
        Assert.EndsWith("199", (string?)await mux2.GetDatabase().HashGetAsync("lic:{t}:sessions", "s7"));
    }

    private static long LogBytes(string dataPath) =>
        new DirectoryInfo(dataPath).EnumerateFiles("aof.log*", SearchOption.AllDirectories).Sum(f => f.Length);

    [Fact]
    public async Task Published_messages_reach_subscribers()
    {
        using var dir = new TempDir();
        await using var server = EmbeddedRedisServer.Start(dir.Path);
        await using var subscriberMux = await ConnectAsync(server);
        await using var publisherMux = await ConnectAsync(server);
        var channel = RedisChannel.Literal("lic:revocations");
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await subscriberMux.GetSubscriber().SubscribeAsync(channel, (_, message) => received.TrySetResult(message!));

        var receivers = await publisherMux.GetSubscriber().PublishAsync(channel, "sess-42");

        Assert.Equal(1, receivers);
        Assert.Equal("sess-42", await received.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Lua_capabilities_match_redis_except_the_documented_differences()
    {
        using var dir = new TempDir();
        await using var server = EmbeddedRedisServer.Start(dir.Path);
        await using var mux = await ConnectAsync(server);
        var failures = await RunProbesAsync(mux.GetDatabase(), garnet: true);

        await AssertPublishFromScriptAsync(mux);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// Runs the same probes against a real redis-server, so that the "Redis" column of
    /// <see cref="Probes"/> is checked and not remembered.
    /// </summary>
    [Fact]
    public async Task Probe_expectations_for_redis_hold_on_a_real_redis_server()
    {
        await using var redis = new RedisServerFixture();
        await redis.InitializeAsync();
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var failures = await RunProbesAsync(mux.GetDatabase(), garnet: false);

        await AssertPublishFromScriptAsync(mux);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static async Task AssertPublishFromScriptAsync(ConnectionMultiplexer mux)
    {
        var channel = RedisChannel.Literal("lic:{t}:revoked");
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await mux.GetSubscriber().SubscribeAsync(channel, (_, message) => received.TrySetResult(message!));

        var receivers = await EvalAsync(mux.GetDatabase(), "return redis.call('PUBLISH', 'lic:{t}:revoked', ARGV[1])", args: ["sess-7"]);

        Assert.Equal(1, (int)receivers);
        Assert.Equal("sess-7", await received.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private async Task<List<string>> RunProbesAsync(IDatabase db, bool garnet)
    {
        var failures = new List<string>();
        foreach (var probe in Probes)
        {
            var actual = await RunAsync(db, probe);
            var expected = garnet ? probe.Garnet ?? probe.Redis : probe.Redis;
            var ok = expected.EndsWith('*') ? actual.StartsWith(expected[..^1], StringComparison.Ordinal) : actual == expected;
            output.WriteLine($"{(ok ? "ok  " : "FAIL")} {probe.Name}: {actual}");
            if (!ok)
                failures.Add($"{probe.Name}:\n  expected {expected}\n  actual   {actual}");
        }
        return failures;
    }

    private static async Task<string> RunAsync(IDatabase db, Probe probe)
    {
        try
        {
            return Format(await db.ScriptEvaluateAsync(probe.Script, probe.Keys.Select(k => (RedisKey)k).ToArray()));
        }
        catch (RedisServerException ex)
        {
            return "EXC:" + ex.Message;
        }
    }

    /// <summary>Renders a reply with its RESP type: i:5, s:'bulk', ss:'status', nil, [..].</summary>
    private static string Format(RedisResult r)
    {
        if (r.Resp2Type == ResultType.Array)
            return "[" + string.Join(", ", ((RedisResult[])r!).Select(Format)) + "]";
        if (r.IsNull)
            return "nil";
        return r.Resp2Type switch
        {
            ResultType.Integer => "i:" + (long)r,
            ResultType.BulkString => "s:'" + ((string?)r)!.Replace("\t", "\\t") + "'",
            ResultType.SimpleString => "ss:'" + (string?)r + "'",
            _ => r.Resp2Type + ":" + r,
        };
    }

    /// <summary>
    /// One Lua probe: <see cref="Redis"/> is what Redis 7.0 returns; <see cref="Garnet"/> is set
    /// only where Garnet 2.2.8 differs, so every non-null <see cref="Garnet"/> is a documented
    /// difference. A trailing '*' makes the expectation a prefix.
    /// </summary>
    public sealed record Probe(string Name, string Script, string[] Keys, string Redis, string? Garnet = null);

    private static Probe P(string name, string script, string redis, string? garnet = null, params string[] keys) =>
        new(name, script, keys, redis, garnet);

    public static readonly Probe[] Probes =
    [
        // ---- environment -------------------------------------------------------------------
        // Garnet runs Lua 5.4 (KeraLua) with a 5.1-like sandbox; Redis runs Lua 5.1.
        P("lua version", "return _VERSION", "s:'Lua 5.1'", garnet: "s:'Lua 5.4'"),
        P("sandbox globals", """
            local r = {}
            for _, n in ipairs({'unpack', 'loadstring', 'load', 'os', 'cjson', 'bit', 'struct', 'cmsgpack'}) do
              r[#r + 1] = n .. '=' .. type(rawget(_G, n))
            end
            r[#r + 1] = 'table.getn=' .. type(table.getn)
            r[#r + 1] = 'table.unpack=' .. type(table.unpack)
            r[#r + 1] = 'math.type=' .. type(math.type)
            return table.concat(r, ' ')
            """,
            "s:'unpack=function loadstring=function load=function os=nil cjson=table bit=table struct=table cmsgpack=table table.getn=function table.unpack=nil math.type=nil'",
            garnet: "s:'unpack=function loadstring=nil load=nil os=table cjson=table bit=table struct=table cmsgpack=table table.getn=nil table.unpack=nil math.type=nil'"),
        P("globals are read-only", "x_global = 1 return 1",
            "EXC:ERR user_script:1: Attempt to modify a readonly table*",
            garnet: "EXC:ERR Lua encountered an error: Attempt to modify a readonly table*"),

        // ---- TIME followed by writes -------------------------------------------------------
        P("TIME then writes", """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('SET', KEYS[1], now)
            local at = redis.call('PEXPIREAT', KEYS[1], now + 60000)
            local pttl = redis.call('PTTL', KEYS[1])
            return {type(t[1]), #t, (now > 1600000000000) and 1 or 0,
                    (redis.call('GET', KEYS[1]) == tostring(now)) and 1 or 0, at, (pttl > 55000 and pttl <= 60000) and 1 or 0}
            """, "[s:'string', i:2, i:1, i:1, i:1, i:1]", keys: "lic:{t}:time"),
        P("TIME math stays integer", """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local function dot(x) return string.find(tostring(x), '[%.e]') and 'dot' or 'int' end
            return {dot(now), dot(now + 5), dot(now - 30000), dot(math.floor(now / 1000)), dot(now / 1000 * 1000)}
            """, "[s:'int', s:'int', s:'int', s:'int', s:'int']",
            garnet: "[s:'int', s:'int', s:'int', s:'int', s:'dot']"),

        // ---- numbers in replies and strings -----------------------------------------------
        P("big number literal is an integer reply", "return 1732770000000", "i:1732770000000"),
        P("floats are truncated to integer replies", "return {2.5, -2.5, 1732770000123 / 1000}", "[i:2, i:-2, i:1732770000]"),
        P("booleans in replies", "return {true, false, 1}", "[i:1, nil, i:1]"),
        P("nil ends an array reply", "return {1, nil, 3}", "[i:1]"),
        // Lua 5.4 prints a float that holds an integer with ".0"; Lua 5.1 has no such type.
        P("number to string", """
            local n = 1732770000000
            return {tostring(n + 5), 'x' .. (n + 5), tostring(n / 1000), 'x' .. (10 / 2),
                    tostring(math.floor(n / 1000)), tostring(2 ^ 10), tostring(tonumber('5.0')), tostring(7 / 7),
                    string.format('%s', 10 / 2), tostring('41' + 1), tostring('41.0' + 1)}
            """,
            "[s:'1732770000005', s:'x1732770000005', s:'1732770000', s:'x5', s:'1732770000', s:'1024', s:'5', s:'1', s:'5', s:'42', s:'42']",
            garnet: "[s:'1732770000005', s:'x1732770000005', s:'1732770000.0', s:'x5.0', s:'1732770000', s:'1024.0', s:'5.0', s:'1.0', s:'5.0', s:'42', s:'42.0']"),
        // The same conversion applies to arguments of redis.call: a float becomes "5.0", which
        // integer-only commands (PEXPIRE, EXPIRE, LRANGE ...) reject.
        P("float arguments to redis.call", """
            redis.call('SET', KEYS[1], 10 / 2)
            local v1 = redis.call('GET', KEYS[1])
            redis.call('SET', KEYS[1], 0.1)
            local v2 = redis.call('GET', KEYS[1])
            local ok, e = pcall(redis.call, 'PEXPIRE', KEYS[1], 10000 / 2)
            local ok2 = pcall(redis.call, 'PEXPIRE', KEYS[1], math.floor(10000 / 2))
            return {v1, v2, ok and 'ok' or tostring(e), tostring(ok2)}
            """,
            "[s:'5', s:'0.10000000000000001', s:'ok', s:'true']",
            garnet: "[s:'5.0', s:'0.1', s:'ERR value is not an integer or out of range.', s:'true']",
            keys: "lic:{t}:floatarg"),
        P("integer modulo by zero", """
            local ok, v = pcall(function() local z = 0 return 5 % z end)
            return ok and 'value' or 'error'
            """, "s:'value'", garnet: "s:'error'"),

        // ---- string, table and math functions ----------------------------------------------
        P("string.gmatch/match with tab, table.concat/remove", """
            local line = 'sess-1\tdev-a\t1732770000000\t'
            local parts = {}
            for p in string.gmatch(line, '([^\t]*)\t') do parts[#parts + 1] = p end
            local a, b, c = string.match(line, '^([^\t]*)\t([^\t]*)\t([^\t]*)')
            local joined = table.concat(parts, '\t')
            local first = table.remove(parts, 1)
            local last = table.remove(parts)
            return {#parts, parts[1], a, b, c, joined, first, last}
            """, "[i:1, s:'dev-a', s:'sess-1', s:'dev-a', s:'1732770000000', s:'sess-1\\tdev-a\\t1732770000000', s:'sess-1', s:'1732770000000']"),
        P("math.floor and math.max", """
            return {tostring(math.floor(3.7)), tostring(math.floor(-3.5)), tostring(math.max(1, 5, 3)),
                    tostring(math.max(1.5, 2)), math.floor(1732770000123 / 1000), math.max(3, 9)}
            """, "[s:'3', s:'-4', s:'5', s:'2', i:1732770000, i:9]"),
        P("string.format", """
            local ok, v = pcall(string.format, '%d', 2.5)
            return {string.format('%s|%d|%.3f|%5.1f|%x', 'a', 42, 1.5, 2.25, 255), string.format('%d', 5.0),
                    string.format('%d', 1732770000000), string.format('%.0f', 1732770000123 / 1000), ok and v or 'error'}
            """,
            "[s:'a|42|1.500|  2.2|ff', s:'5', s:'1732770000000', s:'1732770000', s:'2']",
            garnet: "[s:'a|42|1.500|  2.2|ff', s:'5', s:'1732770000000', s:'1732770000', s:'error']"),

        // ---- cjson -------------------------------------------------------------------------
        P("cjson.encode", """
            return {cjson.encode({1, 'a', 2.5}), cjson.encode({k = 7}), cjson.encode({}),
                    cjson.encode(1732770000000), cjson.encode(10 / 2), cjson.encode('q"\\')}
            """, """[s:'[1,"a",2.5]', s:'{"k":7}', s:'{}', s:'1732770000000', s:'5', s:'"q\"\\"']"""),
        P("cjson.decode", """
            local d = cjson.decode('{"a":5,"b":2.5,"c":null,"d":[true,false],"e":{},"s":"x\\ty"}')
            return {d.a, tostring(d.b), tostring(d.c == cjson.null), tostring(d.d[1]), tostring(d.d[2]), type(d.e), d.s}
            """, "[i:5, s:'2.5', s:'true', s:'true', s:'false', s:'table', s:'x\\ty']"),
        // Garnet's cjson.decode yields floats for every number.
        P("cjson.decode numbers as strings", """
            local d = cjson.decode('{"n":5,"ts":1732770000000}')
            return {tostring(d.n), 'n=' .. d.n, tostring(d.ts)}
            """, "[s:'5', s:'n=5', s:'1732770000000']",
            garnet: "[s:'5.0', s:'n=5.0', s:'1732770000000.0']"),
        // Garnet's cjson.encode writes control characters raw, and its decode rejects them: a
        // string with a tab or newline does not survive encode-then-decode.
        P("cjson round trip of control characters", """
            local enc = cjson.encode({s = 'a\tb'})
            local ok = pcall(cjson.decode, enc)
            local ok2 = pcall(cjson.decode, cjson.encode({s = 'a\nb'}))
            return {string.len(enc), tostring(ok), tostring(ok2)}
            """, "[i:12, s:'true', s:'true']", garnet: "[i:11, s:'false', s:'false']"),
        P("cjson escapes slash", "return cjson.encode('a/b')", """s:'"a\/b"'""", garnet: """s:'"a/b"'"""),
        P("cjson.decode error is catchable", "local ok, e = pcall(cjson.decode, '{bad') return {tostring(ok), type(e)}", "[s:'false', s:'string']"),

        // ---- hashes ------------------------------------------------------------------------
        P("hashes", """
            redis.call('DEL', KEYS[1])
            local r = {}
            r[#r + 1] = redis.call('HSET', KEYS[1], 'a', '1', 'b', '2', 'c', '3')
            r[#r + 1] = redis.call('HSET', KEYS[1], 'a', '10')
            r[#r + 1] = redis.call('HGET', KEYS[1], 'a')
            r[#r + 1] = tostring(redis.call('HGET', KEYS[1], 'zz'))
            local m = redis.call('HMGET', KEYS[1], 'a', 'zz', 'b')
            r[#r + 1] = m[1]; r[#r + 1] = tostring(m[2]); r[#r + 1] = m[3]; r[#r + 1] = #m
            r[#r + 1] = redis.call('HDEL', KEYS[1], 'c', 'zz')
            r[#r + 1] = redis.call('HLEN', KEYS[1])
            r[#r + 1] = redis.call('HEXISTS', KEYS[1], 'a')
            r[#r + 1] = redis.call('HEXISTS', KEYS[1], 'zz')
            local k = redis.call('HKEYS', KEYS[1]); table.sort(k)
            r[#r + 1] = table.concat(k, ',')
            local sc = redis.call('HSCAN', KEYS[1], 0)
            r[#r + 1] = sc[1]; r[#r + 1] = #sc[2]
            r[#r + 1] = table.concat(redis.call('HSCAN', KEYS[1], '0', 'MATCH', 'a*', 'COUNT', 100)[2], ',')
            r[#r + 1] = #redis.call('HGETALL', 'lic:{t}:nohash')
            return r
            """, "[i:3, i:0, s:'10', s:'false', s:'10', s:'false', s:'2', i:3, i:1, i:2, i:1, i:0, s:'a,b', s:'0', i:4, s:'a,10', i:0]",
            keys: "lic:{t}:h"),

        // ---- sorted sets -------------------------------------------------------------------
        P("sorted sets", """
            redis.call('DEL', KEYS[1])
            local r = {}
            r[#r + 1] = redis.call('ZADD', KEYS[1], 1, 'a', 2, 'b', 3, 'c')
            r[#r + 1] = redis.call('ZADD', KEYS[1], 'NX', 100, 'a', 4, 'd')
            r[#r + 1] = redis.call('ZSCORE', KEYS[1], 'a')
            r[#r + 1] = redis.call('ZADD', KEYS[1], 'XX', 50, 'b', 5, 'e')
            r[#r + 1] = redis.call('ZSCORE', KEYS[1], 'b')
            r[#r + 1] = tostring(redis.call('ZSCORE', KEYS[1], 'e'))
            r[#r + 1] = redis.call('ZADD', KEYS[1], 'XX', 'CH', 60, 'b')
            r[#r + 1] = redis.call('ZADD', KEYS[1], 2.5, 'f')
            r[#r + 1] = redis.call('ZADD', KEYS[1], 1732770000123, 'big')
            r[#r + 1] = redis.call('ZSCORE', KEYS[1], 'big')
            r[#r + 1] = redis.call('ZREM', KEYS[1], 'big', 'nope')
            r[#r + 1] = redis.call('ZCARD', KEYS[1])
            r[#r + 1] = table.concat(redis.call('ZRANGE', KEYS[1], 0, -1), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGE', KEYS[1], 0, 1, 'WITHSCORES'), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', 4, 'LIMIT', 0, 2), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '+inf', 'WITHSCORES', 'LIMIT', 1, 2), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGEBYSCORE', KEYS[1], '(1', '(4'), ',')
            r[#r + 1] = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(2')
            r[#r + 1] = tostring(redis.call('ZSCORE', 'lic:{t}:nozset', 'a'))
            r[#r + 1] = redis.call('ZCARD', 'lic:{t}:nozset')
            return r
            """, "[i:3, i:1, s:'1', i:0, s:'50', s:'false', i:1, i:1, i:1, s:'1732770000123', i:1, i:5, s:'a,f,c,d,b', s:'a,1,f,2.5', s:'a,f', s:'f,2.5,c,3', s:'f,c', i:1, s:'false', i:0]",
            keys: "lic:{t}:z"),
        P("ZRANGEBYLEX", """
            redis.call('DEL', KEYS[1])
            redis.call('ZADD', KEYS[1], 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, 'dev-1\tx', 0, 'dev-1\ty', 0, 'dev-2\tz')
            local r = {}
            r[#r + 1] = table.concat(redis.call('ZRANGEBYLEX', KEYS[1], '-', '+'), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGEBYLEX', KEYS[1], '[b', '(d'), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGEBYLEX', KEYS[1], '(b', '[d'), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGEBYLEX', KEYS[1], '-', '(c'), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGEBYLEX', KEYS[1], '[c', '+', 'LIMIT', 1, 2), ',')
            r[#r + 1] = table.concat(redis.call('ZRANGEBYLEX', KEYS[1], '[dev-1\t', '(dev-1\t\255'), '|')
            return r
            """, "[s:'a,b,c,d,dev-1\\tx,dev-1\\ty,dev-2\\tz', s:'b,c', s:'c,d', s:'a,b', s:'d,dev-1\\tx', s:'dev-1\\tx|dev-1\\ty']",
            keys: "lic:{t}:lex"),
        // Garnet prints scores in shortest round-trip form; Redis 7.0 uses 17 significant digits.
        P("ZSCORE of a fractional score", """
            redis.call('DEL', KEYS[1])
            redis.call('ZADD', KEYS[1], 0.1, 'a', 1732770000123.5, 'b')
            return {redis.call('ZSCORE', KEYS[1], 'a'), redis.call('ZSCORE', KEYS[1], 'b')}
            """, "[s:'0.10000000000000001', s:'1732770000123.5']", garnet: "[s:'0.1', s:'1732770000123.5']",
            keys: "lic:{t}:zs"),

        // ---- sets, keys, lists -------------------------------------------------------------
        P("sets and DEL", """
            redis.call('DEL', KEYS[1], KEYS[2])
            local r = {}
            r[#r + 1] = redis.call('SADD', KEYS[1], 'a', 'b', 'c', 'a')
            r[#r + 1] = redis.call('SREM', KEYS[1], 'b', 'zz')
            r[#r + 1] = redis.call('SISMEMBER', KEYS[1], 'a')
            r[#r + 1] = redis.call('SISMEMBER', KEYS[1], 'b')
            r[#r + 1] = redis.call('SCARD', KEYS[1])
            local m = redis.call('SMEMBERS', KEYS[1]); table.sort(m)
            r[#r + 1] = table.concat(m, ',')
            redis.call('SET', KEYS[2], 'x')
            r[#r + 1] = redis.call('DEL', KEYS[1], KEYS[2], 'lic:{t}:missing')
            r[#r + 1] = #redis.call('SMEMBERS', KEYS[1])
            return r
            """, "[i:3, i:1, i:1, i:0, i:2, s:'a,c', i:2, i:0]", keys: ["lic:{t}:s", "lic:{t}:s2"]),
        P("lists", """
            redis.call('DEL', KEYS[1])
            local r = {}
            r[#r + 1] = redis.call('LPUSH', KEYS[1], 'a', 'b', 'c')
            r[#r + 1] = redis.call('LPUSH', KEYS[1], 'd')
            r[#r + 1] = redis.call('LTRIM', KEYS[1], 0, 2).ok
            r[#r + 1] = table.concat(redis.call('LRANGE', KEYS[1], 0, -1), ',')
            r[#r + 1] = redis.call('LLEN', KEYS[1])
            r[#r + 1] = redis.call('LLEN', 'lic:{t}:nolist')
            return r
            """, "[i:3, i:4, s:'OK', s:'d,c,b', i:3, i:0]", keys: "lic:{t}:l"),

        // ---- reply shapes ------------------------------------------------------------------
        P("nested arrays of strings and integers", "return {1, 'a', {2, 'b', {3, 'c', {}}}, {}, -7, '0'}",
            "[i:1, s:'a', [i:2, s:'b', [i:3, s:'c', []]], [], i:-7, s:'0']"),
        // Plain SET gives the script the string 'OK', not the status table {ok = 'OK'}.
        // (SET with NX/XX/PX, LTRIM, HMSET ... do return the table on Garnet too.)
        P("SET reply inside a script", """
            local r = redis.call('SET', KEYS[1], 'v')
            return {type(r), tostring(r == 'OK'), tostring(type(r) == 'table' and r.ok)}
            """, "[s:'table', s:'false', s:'OK']", garnet: "[s:'string', s:'true', s:'false']", keys: "lic:{t}:set"),
        // Garnet sends status replies made in Lua as bulk strings (clients read both as text).
        P("status replies from Lua", "return {redis.status_reply('HELLO'), {ok = 'FINE'}}",
            "[ss:'HELLO', ss:'FINE']", garnet: "[s:'HELLO', s:'FINE']"),

        // ---- errors ------------------------------------------------------------------------
        P("redis.call error inside pcall", """
            redis.call('SET', KEYS[1], 'str')
            local ok, e = pcall(redis.call, 'HGET', KEYS[1], 'f')
            local ok2, e2 = pcall(redis.call, 'NOSUCHCMD', KEYS[1])
            local pc = redis.pcall('HGET', KEYS[1], 'f')
            return {tostring(ok), type(e), tostring(e), tostring(ok2), tostring(e2), type(pc), pc.err}
            """,
            "[s:'false', s:'string', s:'WRONGTYPE Operation against a key holding the wrong kind of value', s:'false', s:'ERR Unknown Redis command called from script', s:'table', s:'WRONGTYPE Operation against a key holding the wrong kind of value']",
            garnet: "[s:'false', s:'string', s:'WRONGTYPE Operation against a key holding the wrong kind of value.', s:'false', s:'ERR Unknown Redis command called from script', s:'table', s:'WRONGTYPE Operation against a key holding the wrong kind of value.']",
            keys: "lic:{t}:pc"),
        P("wrong arity inside pcall", "local ok, e = pcall(redis.call, 'HSET', KEYS[1]) return tostring(e)",
            "s:'ERR Wrong number of args calling Redis command from script'",
            garnet: "s:'ERR wrong number of arguments for 'HSET' command'", keys: "lic:{t}:pc"),
        P("error() inside pcall", """
            local ok, e = pcall(function() error('boom') end)
            local ok2, e2 = pcall(function() error({code = 7}) end)
            return {tostring(ok), tostring(e), tostring(ok2), e2.code}
            """, "[s:'false', s:'user_script:1: boom', s:'false', i:7]", garnet: "[s:'false', s:'boom', s:'false', i:7]"),
        P("error table reply", "return {err = 'MYERR boom'}", "EXC:MYERR boom"),
        P("redis.error_reply keeps its code", "return redis.error_reply('MYERR custom')",
            "EXC:MYERR custom", garnet: "EXC:ERR MYERR custom"),
        P("uncaught redis.call error keeps its code", """
            redis.call('SET', KEYS[1], 'x')
            return redis.call('HGET', KEYS[1], 'f')
            """, "EXC:WRONGTYPE Operation against a key holding the wrong kind of value*",
            garnet: "EXC:ERR Lua encountered an error: WRONGTYPE Operation against a key holding the wrong kind of value*",
            keys: "lic:{t}:wt"),
        P("uncaught error()", "redis.call('SET', KEYS[1], 'written') error('boom')",
            "EXC:ERR user_script:1: boom*", garnet: "EXC:ERR Lua encountered an error: boom", keys: "lic:{t}:partial"),
        // Neither rolls back: writes made before the error stay.
        P("writes before an error are kept", "return redis.call('GET', KEYS[1])", "s:'written'", keys: "lic:{t}:partial"),
        // Works on both, but Garnet locks only KEYS: such a key is not protected by the transaction.
        P("key not declared in KEYS", "redis.call('SET', 'lic:{t}:undeclared', 'x') return redis.call('GET', 'lic:{t}:undeclared')",
            "s:'x'", keys: "lic:{t}:declared"),
    ];

    private static Task<RedisResult> EvalAsync(IDatabase db, string script, string? key = null, string[]? args = null) =>
        db.ScriptEvaluateAsync(script, key is null ? [] : [key], args?.Select(a => (RedisValue)a).ToArray() ?? []);

    private static Task<ConnectionMultiplexer> ConnectAsync(EmbeddedRedisServer server) =>
        ConnectionMultiplexer.ConnectAsync(server.ConnectionString + ",allowAdmin=true");

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("garnet-test-").FullName;

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
