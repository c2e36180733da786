using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Herald.Protocol.Tests")]
