using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Herald.Messaging.Tests")]
