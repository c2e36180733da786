using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Herald.SocketIO.Tests")]
