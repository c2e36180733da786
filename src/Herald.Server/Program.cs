// Herald's standalone hub: `dotnet run --project src/Herald.Server` serves Socket.IO at /socket.io/
// Server-Sent Events at /events (the page's live feed), and the demo page at / on http://localhost:5000
// (in memory: no Redis needed).
using Herald.SocketIO;
using Herald.Sse;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
{
    builder.WebHost.UseUrls("http://localhost:5000");
}

builder.Services.AddSocketIO(o => builder.Configuration.GetSection("Herald:SocketIO").Bind(o));
builder.Services.AddServerSentEvents(o => builder.Configuration.GetSection("Herald:Sse").Bind(o));
var clockInterval = builder.Configuration.GetValue("Herald:Demo:ClockInterval", TimeSpan.FromSeconds(5));
builder.Services.AddHostedService(sp => new DemoClock(sp.GetRequiredService<SseServer>(), clockInterval, TimeProvider.System));
TypedDemo.AddServices(builder.Services); // sessions, channels, typed messages (wwwroot/typed.html, docs/sessions.md)
var app = builder.Build();

app.UseHeraldSessions(); // before static files: the page load itself gets the herald.sid cookie
app.UseDefaultFiles();
app.UseStaticFiles();
var io = app.MapSocketIO("/socket.io");
var sse = app.MapServerSentEvents("/events");
DemoChat.Map(io, sse);
TypedDemo.Map(app, io);
app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));

app.Run();
