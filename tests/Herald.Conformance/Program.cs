// The conformance server for the official protocol test suites: one mode per suite, each in its own file.
//   dotnet run -c Release --project tests/Herald.Conformance -- engineio
using Herald.Conformance;

var mode = args.Length > 0 ? args[0] : "";
var rest = args.Length > 1 ? args[1..] : [];
switch (mode)
{
    case "engineio":
        await EngineIOConformance.RunAsync(rest);
        break;
    default:
        Console.Error.WriteLine("usage: Herald.Conformance <engineio> [--urls http://localhost:3000]");
        return 2;
}

return 0;
