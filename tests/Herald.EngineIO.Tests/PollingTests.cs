using System.Net;
using Herald.Testing;

namespace Herald.EngineIO.Tests;

public class PollingTests
{
    [Fact]
    public async Task EchoesTextAndBinary()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();

        using (var post = await client.PostAsync("4hello\u001ebAQIDBA=="))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            Assert.Equal("ok", await post.Content.ReadAsStringAsync());
            Assert.Equal("text/html", post.Content.Headers.ContentType?.MediaType);
        }

        var first = await host.Handler.NextMessageAsync();
        Assert.Equal("hello"u8.ToArray(), first.Data);
        Assert.False(first.IsBinary);
        var second = await host.Handler.NextMessageAsync();
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, second.Data);
        Assert.True(second.IsBinary);

        var packets = await client.PollAsync();
        Assert.Equal(["4hello", "bAQIDBA=="], packets.Select(p => p.ToString()));
    }

    [Fact]
    public async Task PendingGet_IsAnsweredWhenAMessageIsSent()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        host.Handler.Echo = false;
        await using var client = await host.ConnectPollingAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        var poll = client.PollAsync();
        Assert.False(poll.IsCompleted);
        Assert.True(connection.Send(EngineMessage.FromText("late"u8)));
        Assert.Equal(["4late"], (await poll.DefaultTimeout()).Select(p => p.ToString()));
    }

    [Fact]
    public async Task QueuedMessages_AreCoalescedIntoOnePayload()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        Assert.True(connection.Send(EngineMessage.FromText("a"u8)));
        Assert.True(connection.Send([EngineMessage.FromText("b"u8), EngineMessage.FromBinary(new byte[] { 0xff })]));
        Assert.False(connection.IsWritable);

        var packets = await client.PollAsync();
        Assert.Equal(["4a", "4b", "b/w=="], packets.Select(p => p.ToString()));
    }

    [Fact]
    public async Task SharedBinaryMessage_IsEncodedOnceForEveryPollingClient()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var a = await host.ConnectPollingAsync();
        await using var b = await host.ConnectPollingAsync();
        var message = EngineMessage.FromBinary(new byte[] { 1, 2, 3 });
        (await host.Handler.WaitOpenedAsync(a.Sid!)).Send(message);
        (await host.Handler.WaitOpenedAsync(b.Sid!)).Send(message);

        Assert.Equal("bAQID", (await a.PollAsync()).Single().ToString());
        var cache = message.TransportCache;
        Assert.NotNull(cache);
        Assert.Equal("bAQID", (await b.PollAsync()).Single().ToString());
        Assert.Same(cache, message.TransportCache);
    }

    [Fact]
    public async Task ServerClose_FlushesQueue_ThenSendsClosePacket()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();
        var connection = await host.Handler.WaitOpenedAsync(client.Sid!);

        connection.Send(EngineMessage.FromText("bye"u8));
        connection.Close();
        Assert.False(connection.IsConnected);
        Assert.False(connection.Send(EngineMessage.FromText("dropped"u8)));

        var packets = await client.PollAsync();
        Assert.Equal(["4bye", "1"], packets.Select(p => p.ToString()));
        Assert.Equal("forced close", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);

        using var after = await client.GetAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
    }

    [Fact]
    public async Task ClientClosePacket_AnswersPendingGetWithNoop()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();

        var poll = client.PollAsync();
        using (var post = await client.PostAsync("1"))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }

        Assert.Equal(["6"], (await poll.DefaultTimeout()).Select(p => p.ToString()));
        Assert.Equal("transport close", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }

    [Fact]
    public async Task ClientClosePacket_OvertakingItsGet_TheGetStillGetsNoop()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();

        using (var post = await client.PostAsync("1"))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }

        Assert.Equal("transport close", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
        Assert.Equal(["6"], (await client.PollAsync()).Select(p => p.ToString()));
        using var after = await client.GetAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
    }

    [Fact]
    public async Task CancelledPoll_ClosesSession()
    {
        await using var host = await EngineIOTestHost.StartAsync();
        await using var client = await host.ConnectPollingAsync();
        await host.Handler.WaitOpenedAsync(client.Sid!);

        using var cts = new CancellationTokenSource();
        var poll = client.GetAsync(cts.Token);
        await host.WaitForPendingPollAsync(client.Sid!);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);

        Assert.Equal("transport error", await host.Handler.WaitClosedAsync(client.Sid!));
        Assert.Equal(0, host.Server.SessionCount);
    }
}
