#!/usr/bin/env bash
# Sends Cal.com webhook bodies signed as Cal.com signs them (tools/AskPro.Send). `tools/send.sh --help` lists every option.
#   tools/send.sh booking_created_web --new          one fresh booking to the local host
#   tools/send.sh --story reschedule --new --shuffle a whole lifecycle, out of order with duplicates
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Built quietly first, so that only the sender's own output (and its exit code) reaches the caller.
if ! build=$(dotnet build "$root/tools/AskPro.Send" -c Release -nologo -v quiet 2>&1); then echo "$build" >&2; exit 2; fi
exec dotnet "$root/tools/AskPro.Send/bin/Release/net10.0/AskPro.Send.dll" "$@"
