#!/usr/bin/env bash
# Runs the app locally: Azurite (pinned npm package, default ports, in memory) + `func start` in AskPro.Functions.
# Needs Azure Functions Core Tools v4 (`func`) on PATH. Creates local.settings.json from the sample on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v func >/dev/null || { echo "Azure Functions Core Tools (func) v4 is not on PATH: https://learn.microsoft.com/azure/azure-functions/functions-run-local" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
[ -f local.settings.json ] || { cp local.settings.sample.json local.settings.json; echo "created local.settings.json from the sample"; }

npx azurite --inMemoryPersistence --disableTelemetry --silent --skipApiVersionCheck \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 &
azurite_pid=$!
trap 'kill $azurite_pid 2>/dev/null || true' EXIT

# func reads local.settings.json from the folder it starts in; the top-level one is the single source.
cp local.settings.json AskPro.Functions/local.settings.json
cd AskPro.Functions
func start
