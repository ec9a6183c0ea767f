using Gateway.Development;
using Gateway.Hosting;

// The application's folder is the content root, whatever the working directory (see GatewayContentRoot).
var builder = WebApplication.CreateBuilder(GatewayContentRoot.Options(args));
builder.AddSeatGateway();
builder.AddDevelopmentDemo(); // Development with Demo:Enabled only; nothing in any other environment

var app = builder.Build();
app.UseSeatGateway();
app.Run();
