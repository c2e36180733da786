#!/usr/bin/env bash
# Runs every test: the .NET test projects (xunit, real Kestrel, real redis-server when installed)
# and the Node interop tests with the official socket.io-client. Needs: the .NET SDK, Node + npm,
# redis-server on PATH (.ci/run installs what is missing on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")"
dotnet build Herald.slnx -c Release -warnaserror
# Packages, as users get them (docs/packages.md): one per src/ library into artifacts/packages, and a sample that
# references them from that folder instead of the projects (tests/interop/test/packages.test.js runs it).
rm -rf artifacts/packages artifacts/sample-packages
dotnet pack Herald.Packages.slnf -c Release --no-build -warnaserror
dotnet build samples/FromPackages -c Release -warnaserror
mkdir -p artifacts/test-results
# CI shows only the tail of the output: on a failure, repeat the failed tests and their messages at the end.
# A test that hangs is reported by name (blame) instead of stalling CI until its time limit.
if ! dotnet test Herald.slnx -c Release --no-build --logger "console;verbosity=normal" --results-directory artifacts/test-results \
    --blame-hang-timeout 5m --blame-hang-dump-type none 2>&1 | tee artifacts/test-results/dotnet-test.log; then
  echo "==== FAILED (.NET tests): ===="
  grep -E -A 15 "^\s+Failed [A-Za-z]|\[FAIL\]|aborted|hang" artifacts/test-results/dotnet-test.log | head -300
  exit 1
fi
for dir in tests/interop tests/browser; do
  if [ -f "$dir/package.json" ]; then
    if ! (cd "$dir" && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm test 2>&1 | tee ../../artifacts/test-results/$(basename "$dir").log); then
      echo "==== FAILED ($dir): ===="
      grep -E -B 2 -A 25 "^not ok|^\s+not ok" "artifacts/test-results/$(basename "$dir").log" | head -300
      exit 1
    fi
  fi
done
# Load-tool smoke run: every scenario against every target at small N; fails if any message is missing.
# (No speed assertion: figures on a shared CI machine mean nothing; see docs/benchmarks.md.)
dotnet run -c Release --no-build --project bench/Herald.Bench -- all --target all --quick
