#!/usr/bin/env bash
# Onboards and manages registered tenants (practices) (tools/AskPro.Tenants). `tools/tenant.sh --help` lists every option.
#   tools/tenant.sh add praxis-weber --company c-4711 --api-key - --event-type 1234567 --register --url https://<app>.azurewebsites.net
#   tools/tenant.sh list
#   tools/tenant.sh rotate-secret praxis-weber
#   tools/tenant.sh disable praxis-weber
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Built quietly first, so that only the tool's own output (and its exit code) reaches the caller.
if ! build=$(dotnet build "$root/tools/AskPro.Tenants" -c Release -nologo -v quiet 2>&1); then echo "$build" >&2; exit 2; fi
exec dotnet "$root/tools/AskPro.Tenants/bin/Release/net10.0/AskPro.Tenants.dll" "$@"
