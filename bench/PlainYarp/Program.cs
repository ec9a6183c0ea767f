// Plain YARP: the baseline the gateway is compared with. Routes and clusters come from the
// standard ReverseProxy section (bench/run.sh sets them through environment variables).
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();
app.MapReverseProxy();
app.Run();
