#!/usr/bin/env bash
# npm run demo: installs what is missing, builds and packages Ringbuf Studio, then
# starts a real VS Code (code-server) on 127.0.0.1 with the .vsix installed and a
# workspace scaffolded from the execve template, and prints the URL and what to do.
#
#   PORT=8080                   port to listen on (default 8080 when free, else any free port)
#   DEMO_DIR=~/ringbuf-studio-demo   the workspace (kept between runs; your edits stay)
#   DEMO_EXIT_AFTER_READY=1     exit once everything is ready (CI / smoke tests)
#
# Runs as root with no stdin. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

log() { printf '\033[1mdemo:\033[0m %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

bash scripts/setup.sh test </dev/null

version="$(node -p 'require("./package.json").version')"
vsix="$root/.cache/demo/ringbuf-studio-$version.vsix"
mkdir -p "$root/.cache/demo"
bash scripts/package.sh --no-build -o "$vsix" </dev/null

demo_dir="${DEMO_DIR:-$HOME/ringbuf-studio-demo}"
program_dir="$demo_dir/execve"
mkdir -p "$demo_dir"
if ! compgen -G "$program_dir/*.bpf.c" >/dev/null; then
  log "scaffolding the execve template into $program_dir"
  node dist/cli.js new execve "$program_dir" </dev/null
fi
program="$(compgen -G "$program_dir/*.bpf.c" | head -n1)" || true
[[ -n $program ]] || die "the execve template did not produce a *.bpf.c in $program_dir"

rel="${program#"$demo_dir"/}"

# Something to see: an exec every second (comm "true") for as long as the demo runs.
( while sleep 1; do /bin/true; done ) </dev/null >/dev/null 2>&1 &
ticker_pid=$!
trap 'kill "$ticker_pid" 2>/dev/null || true' EXIT

# First, the same engine in the terminal: five real events from the local kernel.
log "the CLI streams five exec events from the local kernel (ringbuf-studio run $rel --count 5):"
node dist/cli.js run "$program" --target local --count 5 --duration 30 </dev/null ||
  die "running $program on the local kernel failed (see above)"

# A fresh editor profile each run (settings + the just-built .vsix); the workspace is kept.
state="$root/.cache/demo/code-server"
rm -rf "$state"
mkdir -p "$state/user-data/User" "$state/extensions"
cat >"$state/user-data/User/settings.json" <<JSON
{
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "ringbufStudio.runOnStartup": "$rel"
}
JSON
code_server="$root/.cache/code-server/node_modules/.bin/code-server"
[[ -x $code_server ]] || die "code-server is missing: bash scripts/install-code-server.sh"
export XDG_CONFIG_HOME="$state/config" XDG_DATA_HOME="$state/data"
"$code_server" --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" \
  --install-extension "$vsix" --force </dev/null >"$state/install.log" 2>&1 ||
  { cat "$state/install.log" >&2; die "installing $vsix into code-server failed"; }

port_free() { node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(+process.argv[1],"127.0.0.1",()=>s.close(()=>process.exit(0)))' "$1"; }
if [[ -n ${PORT:-} ]]; then
  port_free "$PORT" || die "port $PORT on 127.0.0.1 is in use: pick another with PORT=…"
  port="$PORT"
elif port_free 8080; then
  port=8080
else
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
fi

# Its own session/process group, so stopping ends the extension hosts it forks as well.
setsid "$code_server" --bind-addr "127.0.0.1:$port" --auth none \
  --user-data-dir "$state/user-data" --extensions-dir "$state/extensions" \
  --disable-telemetry --disable-update-check --disable-workspace-trust "$demo_dir" \
  </dev/null >"$state/code-server.log" 2>&1 &
cs_pid=$!
stop() {
  kill "$ticker_pid" 2>/dev/null || true
  if kill -0 "$cs_pid" 2>/dev/null; then
    kill -TERM -- "-$cs_pid" 2>/dev/null || kill "$cs_pid" 2>/dev/null || true
    wait "$cs_pid" 2>/dev/null || true
  fi
  kill -KILL -- "-$cs_pid" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

url="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  kill -0 "$cs_pid" 2>/dev/null || { cat "$state/code-server.log" >&2; die "code-server exited"; }
  if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$url/healthz"; then
    break
  fi
  sleep 0.5
done
node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$url/healthz" ||
  { cat "$state/code-server.log" >&2; die "code-server did not answer on $url"; }

cat <<EOF_MSG

  Ringbuf Studio is running in VS Code (code-server $("$code_server" --version 2>/dev/null | grep -Eo '^[0-9.]+' | head -n1)):

      $url/?folder=$demo_dir

  1. Open the URL in a browser (from another machine: ssh -L $port:127.0.0.1:$port <this host>).
  2. $rel opens and runs on the local kernel by itself (setting ringbufStudio.runOnStartup):
     the Live Events panel beside it fills with exec events (an exec of /bin/true every second,
     plus whatever you run in a terminal). Stop / run again: F1 → "Ringbuf Studio: Stop",
     "Ringbuf Studio: Run on Local Host".
  3. Try: change max_entries to 1000 (a warning and a quick fix); filter the panel with
     comm == "true"; the "Get started with Ringbuf Studio" walkthrough (Help → Welcome) shows the rest.

  Extension: $vsix
  Logs: $state/code-server.log
EOF_MSG

if [[ ${DEMO_EXIT_AFTER_READY:-} == 1 ]]; then
  log "ready; DEMO_EXIT_AFTER_READY=1, stopping"
  exit 0
fi
log "press Ctrl-C to stop"
wait "$cs_pid"
