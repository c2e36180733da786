using Herald.Bench;
using Herald.Bench.Generator;

// Herald's load tool. `<scenario> [options]` orchestrates (servers on CPU 0, generator on CPU 1);
// `generate <scenario> ...` is the generator itself, started by the orchestrator.
try
{
    if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
    {
        Console.Out.WriteLine(BenchOptions.Usage);
        return args.Length == 0 ? 2 : 0;
    }

    if (args[0] == "generate")
    {
        return await GeneratorRunner.RunAsync(BenchOptions.Parse(args, 1));
    }

    var options = BenchOptions.Parse(args, 0);
    if (options.Scenarios.Count == 0 && options.Quick)
    {
        options.Scenarios.AddRange(BenchOptions.AllScenarios);
    }

    if (options.Scenarios.Count == 0)
    {
        Console.Error.WriteLine(BenchOptions.Usage);
        return 2;
    }

    return await Orchestrator.RunAsync(options, "Herald.Bench " + string.Join(' ', args));
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
