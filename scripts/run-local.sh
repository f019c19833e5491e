#!/usr/bin/env bash
# `make run`: Deskside on this machine on its embedded default — the server on
# SQLite and a local agent enrolled to it. Ctrl-C stops both; state is kept in
# .deskside/ (delete it to start over).
set -euo pipefail
cd "$(dirname "$0")/.."

state=${DESKSIDE_HOME:-$PWD/.deskside}
addr=${DESKSIDE_ADDR:-127.0.0.1:8080}
mkdir -p "$state/server" "$state/agent" bin

echo "== building the server and the agent"
go build -o bin/deskside-server ./server
go build -o bin/deskside-agent ./agent

# The windows are a separate program next to the agent (the agent itself
# links no fyne). It needs cgo and the GL/X11 headers (scripts/deps.sh), and
# on a fresh machine it takes longer to compile than everything else put
# together, so it builds in the background while the server and the agent
# already run. Until it is there a click on the tray's "Get help…" logs and
# shows a notification instead of opening a window (the agent looks for it at
# each click, so it is picked up once built). It is built under another name
# and renamed, so the agent never starts a half-written file. setsid gives it
# its own process group, which cleanup stops whole.
ui_log="$state/deskside-ui-build.log"
own_group=(); command -v setsid >/dev/null && own_group=(setsid)
"${own_group[@]}" bash -c '
  if go build -o bin/.deskside-ui.new ./agent/cmd/deskside-ui >"$1" 2>&1 && mv -f bin/.deskside-ui.new bin/deskside-ui; then
    echo "== The windows are ready (bin/deskside-ui)"
  else
    rm -f bin/.deskside-ui.new
    if [ -x bin/deskside-ui ]; then then_what="the windows open from the older bin/deskside-ui still there"; else then_what="the server and the agent run, the tray'"'"'s windows will not open"; fi
    echo "== The window app (bin/deskside-ui) did not build, see $1: $then_what (make deps installs the GL/X11 headers it needs)"
  fi' _ "$ui_log" &
ui_pid=$!
echo "   (the window app bin/deskside-ui is building in the background; a line below says when the windows are ready)"

# This demo agent keeps its credentials, history and socket apart from a real
# installation for the same user.
export DESKSIDE_CONFIG_DIR="$state/agent"
export DESKSIDE_SOCKET="$state/agent/agent.sock"

pids=()
cleanup() {
  kill -- "-$ui_pid" 2>/dev/null || kill "$ui_pid" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Logs go to files, so the one banner below stays readable.
rel=${state#"$PWD"/}
bin/deskside-server serve --data "$rel/server" --addr "$addr" >"$state/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { tail -n 5 "$state/server.log"; echo "The server did not start (is $addr in use? set DESKSIDE_ADDR)."; exit 1; }
  sleep 0.1
done

if [ ! -s "$state/agent/credentials.json" ]; then
  token=$(bin/deskside-server token create --data "$rel/server" --group local)
  bin/deskside-agent enrol --server "http://$addr" --token "$token"
fi

# --point-cli: while it runs, plain `bin/deskside-agent …` (README "Using it")
# finds this agent; it says so in the user's config dir and removes that on exit.
# It declines when this user has a real agent installed: then the banner
# gives the commands with DESKSIDE_SOCKET.
run_flags=(--point-cli)
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || run_flags+=(--headless)
bin/deskside-agent run "${run_flags[@]}" >"$state/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  bin/deskside-agent status >/dev/null 2>&1 && break
  kill -0 "${pids[1]}" 2>/dev/null || { tail -n 5 "$state/agent.log"; echo "The agent did not start."; exit 1; }
  sleep 0.1
done

agent_cmd="bin/deskside-agent"
own="${XDG_CONFIG_HOME:-$HOME/.config}/deskside/credentials.json"
[ "$(uname)" = Darwin ] && own="$HOME/Library/Application Support/deskside/credentials.json"
[ -e "$own" ] && agent_cmd="DESKSIDE_CONFIG_DIR=$DESKSIDE_CONFIG_DIR DESKSIDE_SOCKET=$DESKSIDE_SOCKET bin/deskside-agent"

echo "== Deskside is running"
echo "  Console:          http://$addr/"
if [ -s "$state/server/setup-token" ]; then
  echo "  First admin:      http://$addr/#/setup?token=$(cat "$state/server/setup-token")"
fi
cat <<MSG
  Ask IT from this desk (another terminal):
    $agent_cmd ask "My printer jams"
    $agent_cmd requests            (IT's replies)
  Enrol another computer: bin/deskside-server token create --data $rel/server
  Logs:             $rel/server.log, $rel/agent.log
  Ctrl-C stops both.
MSG
wait -n "${pids[@]}"
