#!/usr/bin/env bash
# Offline checks of infra/: compile, lint and compare with the committed snapshot, using the bicep CLI pinned in
# Directory.Packages.props (restored from NuGet by tools/bicep/Bicep.Restore.csproj). Any diagnostic fails, warnings
# included: bicep prints those to stderr and still exits 0, so every step's output is inspected, not only its code.
#   infra/check.sh            check (CI)
#   infra/check.sh --update   rewrite infra/main.snapshot.json after an intended change, then review the diff
# Last line of output: "infra: OK ..." or "infra: FAILED ...".
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# main.bicepparam reads these (azd sets them); the snapshot must not depend on who runs the check.
unset AZURE_ENV_NAME AZURE_PRINCIPAL_ID

mode=validate
case "${1:-}" in
  "") ;;
  --update) mode=overwrite ;;
  *) echo "usage: infra/check.sh [--update]" >&2; exit 2 ;;
esac

fail() { echo "infra: FAILED ($1)"; exit 1; }

if ! restore_log=$(dotnet restore tools/bicep/Bicep.Restore.csproj 2>&1); then
  echo "$restore_log" >&2
  fail "could not restore the bicep CLI from NuGet"
fi
package_dir=$(dotnet msbuild tools/bicep/Bicep.Restore.csproj -getProperty:PkgAzure_Bicep_CommandLine_linux-x64 2>/dev/null | tr -d '\r\n')
bicep="$package_dir/tools/bicep"
[ -f "$bicep" ] || fail "bicep binary not found in the NuGet cache (looked for $bicep)"
# NuGet does not keep the executable bit.
[ -x "$bicep" ] || chmod +x "$bicep" || fail "cannot make $bicep executable"
version=$("$bicep" --version 2>&1) || fail "bicep does not run: $version"

# A fixed deployment scope, so the snapshot holds concrete names instead of unresolved expressions. Dummy ids:
# nothing here talks to Azure.
scope=(--subscription-id 00000000-0000-0000-0000-000000000000 --tenant-id 00000000-0000-0000-0000-000000000000
  --resource-group rg-askpro-dev --location swedencentral)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=()

# Runs one step; it passes only with exit code 0 and no output on stderr (where every diagnostic goes).
step() {
  local name=$1; shift
  if ! "$@" >"$out/$name.out" 2>"$out/$name.err" || [ -s "$out/$name.err" ]; then
    failed+=("$name")
    echo "--- $name: $*" >&2
    cat "$out/$name.err" "$out/$name.out" >&2
  fi
}

step build "$bicep" build infra/main.bicep --outfile "$out/main.json"
step build-params "$bicep" build-params infra/main.bicepparam --outfile "$out/main.parameters.json"
step lint "$bicep" lint infra/main.bicep
step lint-params "$bicep" lint infra/main.bicepparam
step snapshot "$bicep" snapshot infra/main.bicepparam --mode "$mode" "${scope[@]}"

# Diagnostics that reach stdout (or a format change that moves them there) must not slip through either.
if grep -hE '\((Error|Warning|Info)\)|: (Error|Warning|Info) [A-Za-z0-9-]+:' "$out"/*.out >&2; then
  failed+=("diagnostics on stdout")
fi
if [ -f infra/main.snapshot.json ] && grep -q '"diagnostics": \[\]' infra/main.snapshot.json; then :; else
  failed+=("snapshot records diagnostics")
fi

if [ ${#failed[@]} -gt 0 ]; then
  [[ " ${failed[*]} " == *" snapshot "* ]] && [ "$mode" = validate ] \
    && echo "infra/main.snapshot.json is out of date: if the change is intended, run infra/check.sh --update and commit the diff." >&2
  fail "${failed[*]}; ${version#Bicep CLI version }"
fi
echo "infra: OK (build, lint, snapshot $mode; 0 diagnostics; bicep ${version#Bicep CLI version })"
