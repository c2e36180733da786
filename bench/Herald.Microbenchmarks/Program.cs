using BenchmarkDotNet.Running;

// `-- -f '*'` runs everything; `-- --list flat` lists; `-- -f '*Engine*' --job short` for a quick look.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
