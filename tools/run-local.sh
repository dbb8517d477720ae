#!/usr/bin/env bash
# Runs the app locally on Azurite (the pinned npm package, in memory, default ports), with one of two hosts:
#   - `func start` in AskPro.Functions when Azure Functions Core Tools (`func`) are on PATH;
#   - otherwise, or with --local-host, the local host (tools/AskPro.LocalHost): the same function classes and
#     composition on Kestrel and the WebJobs SDK queue listener, configured from host.json and local.settings.json.
# Installs the pinned Azurite (npm ci) when it is missing; creates local.settings.json from the sample on first run.
# The console shows the functions, the URL, then one line per delivery and per applied event; --verbose shows every
# log line (the local host's full logs, or func start --verbose).
# Ctrl-C stops the host and Azurite (whole process groups).
#   tools/run-local.sh [--local-host] [--port N] [--verbose]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

host=auto; port=""; verbose=()
while [ $# -gt 0 ]; do
  case "$1" in
    --local-host) host=local ;;
    --port) port="${2:?--port needs a number}"; shift ;;
    --verbose) verbose=(--verbose) ;;
    -h|--help) sed -n '2,/^[^#]/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$host" = auto ]; then
  if command -v func >/dev/null; then host=func; why="func (Azure Functions Core Tools) is on PATH"
  else host=local; why="func (Azure Functions Core Tools) is not on PATH"; fi
else
  why="--local-host was given"
fi

# npm ci only when the pinned Azurite is not installed yet: it deletes node_modules first, which would pull the
# emulator from under tests or another run using this checkout.
node -e 'process.exit(require("./node_modules/azurite/package.json").version === require("./package.json").devDependencies.azurite ? 0 : 1)' 2>/dev/null \
  || npm ci --no-audit --no-fund --loglevel=error
[ -f local.settings.json ] || { cp local.settings.sample.json local.settings.json; echo "created local.settings.json from local.settings.sample.json"; }
setting() { node -e 'const v=(JSON.parse(require("fs").readFileSync("local.settings.json","utf8")).Values||{})[process.argv[1]]; process.stdout.write(v==null?"":String(v))' "$1"; }
storage=$(setting AzureWebJobsStorage)
table=$(setting Appointments__TableName); table=${table:-Appointments}
[ -n "$port" ] || port=$(node -e 'const h=JSON.parse(require("fs").readFileSync("local.settings.json","utf8")).Host||{}; process.stdout.write(String(h.LocalHttpPort||7071))')

if [ "$host" = local ]; then
  # Built before job control is on, so a Ctrl-C during the build stops the script too.
  echo "building the local host"
  if ! build=$(dotnet build tools/AskPro.LocalHost -c Release -nologo -v quiet 2>&1); then echo "$build" >&2; exit 1; fi
fi

# Job control: every background job gets its own process group, so cleanup can stop a child with all its children.
set -m
groups=()
cleanup() {
  trap - EXIT INT TERM
  # Newest first: the host finishes what it is applying before the storage under it goes away.
  local i g
  for ((i = ${#groups[@]} - 1; i >= 0; i--)); do
    g=${groups[i]}
    kill -TERM -- "-$g" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 -- "-$g" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$g" 2>/dev/null || true
  done
  [ -z "${azurite_dir:-}" ] || rm -rf "$azurite_dir"
}
trap cleanup EXIT
trap 'echo; echo "stopping"; exit 130' INT
trap 'exit 143' TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ "$storage" != "UseDevelopmentStorage=true" ]; then
  where="the storage account of AzureWebJobsStorage in local.settings.json (not starting Azurite)"
elif port_open 10000 && port_open 10001 && port_open 10002; then
  where="the storage emulator already listening on 127.0.0.1:10000-10002 (not starting another)"
else
  azurite_dir=$(mktemp -d)
  (cd "$azurite_dir" && exec "$root/node_modules/.bin/azurite" --inMemoryPersistence --disableTelemetry --silent --skipApiVersionCheck \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1) &
  groups+=($!)
  for _ in $(seq 1 150); do port_open 10000 && port_open 10001 && port_open 10002 && break; sleep 0.2; done
  port_open 10002 || { echo "Azurite did not start listening on 127.0.0.1:10000-10002" >&2; exit 1; }
  where="Azurite (pinned npm package, in memory: records are gone when this stops) on 127.0.0.1:10000-10002"
fi

if [ "$host" = func ]; then
  # func reads local.settings.json from the folder it starts in; the top-level one is the single source.
  cp local.settings.json AskPro.Functions/local.settings.json
  # stdin from /dev/null: a background job that reads the terminal would be stopped (SIGTTIN).
  (cd AskPro.Functions && exec func start --port "$port" "${verbose[@]}") </dev/null &
  name="Azure Functions host (func start in AskPro.Functions)"
else
  dotnet tools/AskPro.LocalHost/bin/Release/net10.0/AskPro.LocalHost.dll --port "$port" "${verbose[@]}" </dev/null &
  name="AskPro local host (tools/AskPro.LocalHost: same functions and composition, Kestrel + WebJobs queue listener)"
fi
host_pid=$!
groups+=("$host_pid")

cat <<INFO

  Host:     $name, because $why
  Webhook:  POST http://localhost:$port/api/webhooks/calcom
  Send:     tools/send.sh booking_created_web --new    (or --story reschedule; tools/send.sh --help)
  Records:  table $table in $where
            look at them with Azure Storage Explorer (Local storage emulator), or
            az storage entity query --table-name $table --connection-string UseDevelopmentStorage=true
  Ctrl-C stops the host and Azurite.

INFO
set +e
wait "$host_pid"
code=$?
echo "host exited with code $code"
exit "$code"
