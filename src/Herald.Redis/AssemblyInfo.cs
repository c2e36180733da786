using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Herald.Messaging.Tests")]

// The Redis SSE history store (Herald.Sse.Redis) speaks through the same multiplexed command connection rather than
// a public raw-command API that every user would then depend on.
[assembly: InternalsVisibleTo("Herald.Sse.Redis")]
[assembly: InternalsVisibleTo("Herald.Sessions.Redis")]
