#!/usr/bin/env bash
# Screenshots of software amnesty in the agent's windows: the real window
# app (deskside-ui) under Xvfb, talking over the local API to the in-memory
# agent (agent/internal/localapi/fakeagent: a software list, IT's catalogue
# and a question about Figma), so no server is needed. Writes
# docs/screenshots/agent-software-prompt.png and agent-software.png.
#
# Needs: Xvfb, dbus-run-session, imagemagick (import), xdotool.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/docs/screenshots

if [ -z "${DESKSIDE_IN_SESSION:-}" ]; then
  for t in Xvfb dbus-run-session import xdotool; do
    command -v "$t" >/dev/null || { echo "missing $t (apt-get install xvfb dbus imagemagick xdotool)"; exit 1; }
  done
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "== building the window app and the in-memory agent"
  go build -o "$work/deskside-ui" ./agent/cmd/deskside-ui
  go build -o "$work/fakeagent" ./agent/internal/localapi/fakeagent
  disp=:$((190 + RANDOM % 50))
  Xvfb "$disp" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  trap 'kill $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
  sleep 1
  DESKSIDE_IN_SESSION=1 WORK=$work DISPLAY=$disp LANG=C.UTF-8 HOME=$work/home \
    dbus-run-session -- bash "$0"
  exit
fi

mkdir -p "$HOME" "$out"
export DESKSIDE_SOCKET=$WORK/agent.sock
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # A window app caught mid-start may miss the TERM: do not wait forever.
  for _ in $(seq 1 30); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
"$WORK/fakeagent" --socket "$DESKSIDE_SOCKET" &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$DESKSIDE_SOCKET" ] && break; sleep 0.1; done

shoot() { # NAME TITLE
  local wid
  wid=$(xdotool search --sync --onlyvisible --name "$2" | head -1)
  sleep 1.2
  import -window "$wid" "$out/agent-$1.png"
  convert "$out/agent-$1.png" -strip -colors 256 "PNG8:$out/agent-$1.png" 2>/dev/null || true
  echo "   docs/screenshots/agent-$1.png"
}

echo "== windows"
"$WORK/deskside-ui" software-prompt &
pids+=($!)
shoot software-prompt "A quick question"

"$WORK/deskside-ui" software &
pids+=($!)
shoot software "Software"
