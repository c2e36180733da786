#!/usr/bin/env bash
# Runs every test: the .NET test projects (xunit, real Kestrel, real redis-server when installed)
# and the Node interop tests with the official socket.io-client. Needs: the .NET SDK, Node + npm,
# redis-server on PATH (.ci/run installs what is missing on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")"
dotnet build Herald.slnx -c Release -warnaserror
dotnet test Herald.slnx -c Release --no-build --logger "console;verbosity=normal" --results-directory artifacts/test-results
for dir in tests/interop tests/browser; do
  if [ -f "$dir/package.json" ]; then
    (cd "$dir" && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm test)
  fi
done
# Load-tool smoke run: every scenario against every target at small N; fails if any message is missing.
# (No speed assertion: figures on a shared CI machine mean nothing; see docs/benchmarks.md.)
dotnet run -c Release --no-build --project bench/Herald.Bench -- all --target all --quick
