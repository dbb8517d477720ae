#!/usr/bin/env bash
# The test command: installs the pinned Azurite, then builds and runs every test, the unit and the integration project
# at the same time (one `dotnet test` of the solution). Tests start their own in-memory Azurite on free ports (or use
# ASKPRO_TEST_STORAGE). Extra arguments go to `dotnet test` (CI passes --results-directory DIR: one trx per project).
#
#   tools/test.sh            every test (AskPro.Functions.Tests and AskPro.Functions.IntegrationTests)
#   tools/test.sh --unit     the fast set alone: AskPro.Functions.Tests (pure code; no npm, no Azurite, no processes,
#                            no sockets), seconds apart from the property tests
set -euo pipefail
cd "$(dirname "$0")/.."
target=AskPro.Functions.sln
if [ "${1:-}" = "--unit" ]; then
  shift
  target=AskPro.Functions.Tests/AskPro.Functions.Tests.csproj
else
  npm ci --no-audit --no-fund --loglevel=error
fi
start=$SECONDS
status=0
dotnet test "$target" -c Release --logger "trx" --logger "console;verbosity=normal" "$@" || status=$?
echo "tools/test.sh: $target in $((SECONDS - start)) s (build and tests)"
exit "$status"
