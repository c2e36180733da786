// A chat server built from the Herald NuGet packages alone (Herald.SocketIO, Herald.Sse, Herald.Messaging), the
// way an application consumes Herald. test.sh builds it from the packages it has just packed, runs it and checks
// that a Socket.IO handshake and an SSE stream answer (samples/FromPackages/README.md).
//   dotnet run --project samples/FromPackages -- --urls http://localhost:5080
using Herald.Messaging;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddHeraldMessaging(o => o.NodeName = "web-server-1");
builder.Services.AddSocketIO();
builder.Services.AddServerSentEvents();

var app = builder.Build();
var io = app.MapSocketIO("/socket.io");
var sse = app.MapServerSentEvents("/events");

io.OnConnection(socket =>
{
    // Every chat line goes to the other sockets (Socket.IO) and to the "chat" topic of the SSE feed.
    socket.On("chat", (string text) =>
    {
        socket.Broadcast.Emit("chat", text);
        sse.To("chat").Emit("chat", text);
    });
});

// What other services publish on the message channel's "announcement" topic reaches every browser.
app.Services.GetRequiredService<IMessageChannel>().Subscribe<string>("announcement", text => io.Emit("announcement", text));

app.Run();
