// Herald's standalone hub: `dotnet run --project src/Herald.Server` serves Socket.IO at /socket.io/
// and the demo page at / on http://localhost:5000 (in memory: no Redis needed).
using Herald.SocketIO;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
{
    builder.WebHost.UseUrls("http://localhost:5000");
}

builder.Services.AddSocketIO(o => builder.Configuration.GetSection("Herald:SocketIO").Bind(o));
var app = builder.Build();

app.UseDefaultFiles();
app.UseStaticFiles();
var io = app.MapSocketIO("/socket.io");
DemoChat.Map(io);
app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));

app.Run();
