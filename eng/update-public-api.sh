#!/usr/bin/env bash
# Records the current public API of every packed library into its PublicAPI.Unshipped.txt (the baseline that
# Microsoft.CodeAnalysis.PublicApiAnalyzers checks at build: RS0016 for a public symbol missing from it, RS0017 for a
# listed one that is gone). Run it after an INTENDED public change, then review the diff of PublicAPI.*.txt: that
# diff is the API review. Nothing has shipped yet (0.x previews), so everything is in Unshipped.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
for csproj in $(grep -o '"src/[^"]*\.csproj"' Herald.Packages.slnf | tr -d '"'); do
  dir=$(dirname "$csproj")
  [ -f "$dir/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$dir/PublicAPI.Shipped.txt"
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
done
log=$(mktemp)
# Warnings, not errors, for this one build, so that every project builds and reports all its symbols at once.
dotnet build Herald.Packages.slnf -c Release --no-incremental -p:TreatWarningsAsErrors=false > "$log" 2>&1 || true
for csproj in $(grep -o '"src/[^"]*\.csproj"' Herald.Packages.slnf | tr -d '"'); do
  dir=$(dirname "$csproj")
  { printf '#nullable enable\n'
    { grep -F "[$PWD/$csproj]" "$log" || true; } | grep -F "RS0016" | sed -E "s/.*Symbol '(.*)' is not part of the declared public API.*/\1/" | LC_ALL=C sort -u
  } > "$dir/PublicAPI.Unshipped.txt"
  echo "$csproj: $(($(wc -l < "$dir/PublicAPI.Unshipped.txt") - 1)) public symbols"
done
if grep -E 'error|RS00(1[0-9]|2[0-9]|3[0-9]|4[0-9]|5[0-9])' "$log" | grep -v RS0016 | grep -q .; then
  echo "other diagnostics (fix them, then run again):"; grep -E 'error|RS00' "$log" | grep -v RS0016 | sort -u | head -20
fi
rm -f "$log"
