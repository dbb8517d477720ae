#!/usr/bin/env bash
# Erases one booking's data and leaves a tombstone (tools/AskPro.LocalHost, `erase`). `tools/erase.sh --help` lists every option.
#   tools/erase.sh -  < uid.txt                               storage of ./local.settings.json, uid from stdin
#   tools/erase.sh "$UID" --url http://localhost:7071          through a running app's POST /api/ops/erase
#   tools/erase.sh "$UID" --url "https://$APP" --key "$KEY"   a deployed app (function key)
#   tools/erase.sh - --tenant acme < uid.txt                 a booking of tenant (practice) acme; default: the default tenant
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Built quietly first, so that only the tool's own output (and its exit code) reaches the caller.
if ! build=$(dotnet build "$root/tools/AskPro.LocalHost" -c Release -nologo -v quiet 2>&1); then echo "$build" >&2; exit 2; fi
exec dotnet "$root/tools/AskPro.LocalHost/bin/Release/net10.0/AskPro.LocalHost.dll" erase "$@"
