using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Herald.Messaging.Tests")]
[assembly: InternalsVisibleTo("Herald.Redis")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Herald.PeerLinks.Tests")]
