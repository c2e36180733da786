using Herald.Sse;

/// <summary>
/// The demo page's live feed over Server-Sent Events at <c>/events</c>: every chat message of every room goes to the
/// SSE topic <c>chat</c> (see <see cref="DemoChat"/>), and this clock emits <c>clock</c> to every SSE client every
/// <c>Herald:Demo:ClockInterval</c> (5 s by default), with the number of SSE connections.
/// </summary>
internal sealed class DemoClock(SseServer sse, TimeSpan interval, TimeProvider time) : BackgroundService
{
    public const string ChatTopic = "chat";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                sse.Emit("clock", new { at = time.GetUtcNow(), sseClients = sse.ConnectionCount });
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
