using Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddSeatGateway();

var app = builder.Build();
app.UseSeatGateway();
app.Run();
