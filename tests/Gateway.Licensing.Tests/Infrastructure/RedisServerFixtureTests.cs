using System.Diagnostics;
using StackExchange.Redis;

namespace Gateway.Licensing.Tests.Infrastructure;

[Collection("redis")]
public sealed class RedisServerFixtureTests(RedisServerFixture redis)
{
    [Fact]
    public async Task Shared_server_answers_ping_and_keeps_values()
    {
        await redis.FlushAsync();
        var db = redis.Connection.GetDatabase();

        await db.PingAsync();
        await db.StringSetAsync("fixture:hello", "world");

        Assert.Equal("world", (string?)await db.StringGetAsync("fixture:hello"));
        Assert.StartsWith("127.0.0.1:", redis.ConnectionString, StringComparison.Ordinal);
        Assert.Contains("allowAdmin=true", redis.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flush_removes_every_key()
    {
        var db = redis.Connection.GetDatabase();
        await db.StringSetAsync("fixture:flush", "x");

        await redis.FlushAsync();

        Assert.False(await db.KeyExistsAsync("fixture:flush"));
    }

    [Fact]
    public async Task Stop_makes_commands_fail_fast_and_start_brings_the_server_back_on_the_same_port()
    {
        // A private server: stopping the shared one would disturb other tests.
        await using var own = new RedisServerFixture();
        await own.InitializeAsync();
        var port = own.Port;
        var db = own.Connection.GetDatabase();
        await db.StringSetAsync("fixture:outage", "before");

        await own.StopAsync();

        Assert.False(own.IsRunning);
        var elapsed = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<Exception>(async () => await db.PingAsync());
        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(3), $"PING took {elapsed.Elapsed} to fail while the server was down.");

        await own.StartAsync();

        Assert.True(own.IsRunning);
        Assert.Equal(port, own.Port);
        await db.PingAsync();
        Assert.False(await db.KeyExistsAsync("fixture:outage")); // no persistence: a restart starts empty
        await db.StringSetAsync("fixture:outage", "after");
        Assert.Equal("after", (string?)await db.StringGetAsync("fixture:outage"));

        // A fresh client built from the plain connection string reaches it too.
        await using var other = await ConnectionMultiplexer.ConnectAsync(own.ConnectionString);
        Assert.Equal("after", (string?)await other.GetDatabase().StringGetAsync("fixture:outage"));
    }

    [Fact]
    public async Task A_config_file_with_AOF_keeps_the_data_across_a_kill_and_its_dir_line_is_ignored()
    {
        var directory = RedisProcess.CreateTempDirectory("redis-conf");
        var config = Path.Combine(directory, "test.conf");
        await File.WriteAllLinesAsync(config, ["appendonly yes", "dir /nonexistent/redis-fixture", "save \"\""]);
        try
        {
            await using var own = new RedisServerFixture { ConfigFile = config, Arguments = ["--appendfsync", "always"] };
            await own.InitializeAsync();
            var db = own.Connection.GetDatabase();
            await db.StringSetAsync("fixture:durable", "kept");

            await own.StopAsync(); // SIGKILL
            await own.StartAsync();

            Assert.Equal("kept", (string?)await db.StringGetAsync("fixture:durable"));
            Assert.True(File.Exists(Path.Combine(own.Directory, "redis.conf")));
            var server = own.Connection.GetServer("127.0.0.1", own.Port);
            Assert.Equal("yes", (await server.ConfigGetAsync("appendonly")).Single().Value);
            Assert.Equal("always", (await server.ConfigGetAsync("appendfsync")).Single().Value); // Arguments win over the file
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
