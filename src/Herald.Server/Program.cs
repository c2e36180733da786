// Herald's standalone hub: `dotnet run --project src/Herald.Server` serves Socket.IO at /socket.io/, Server-Sent
// Events at /events (the page's live feed), the demo page at /, the dashboard at /admin, the publish API at /api and
// /healthz, /readyz on http://localhost:5000 (in memory: no Redis needed). Every setting is in the Herald section of
// appsettings.json, overridable by environment (Herald__NodeName) or command line (--Herald:NodeName=web-1); see
// docs/getting-started.md.
using Herald.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
try
{
    builder.AddHeraldHub();
}
catch (HubConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var app = builder.Build();
app.MapHeraldHub();

app.Run();
return 0;
