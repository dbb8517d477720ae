#!/usr/bin/env bash
# The test command: installs the pinned Azurite, then builds and runs every test. Tests start their own
# in-memory Azurite on free ports (or use ASKPRO_TEST_STORAGE). Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
dotnet test AskPro.Functions.sln -c Release --logger "trx" --logger "console;verbosity=normal" "$@"
