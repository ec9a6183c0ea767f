using Gateway.Development;
using Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddSeatGateway();
builder.AddDevelopmentDemo(); // Development with Demo:Enabled only; nothing in any other environment

var app = builder.Build();
app.UseSeatGateway();
app.Run();
