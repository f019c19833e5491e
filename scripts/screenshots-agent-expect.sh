#!/usr/bin/env bash
# Screenshots of honest expectations in the agent's windows: the real
# window app (deskside-ui) under Xvfb, talking over the local API to an
# in-memory agent (agent/internal/localapi/fakeagent --expectations: IT's
# promises worded by the agent core, and a request Rob picked up but has
# not answered yet), so no server is needed. Writes
# docs/screenshots/agent-get-help-expect.png and
# agent-my-requests-expect.png.
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
  disp=:$((140 + RANDOM % 50))
  Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
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
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
"$WORK/fakeagent" --socket "$DESKSIDE_SOCKET" --expectations &
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
"$WORK/deskside-ui" get-help &
pids+=($!)
xdotool search --sync --onlyvisible --name "Get help" >/dev/null
sleep 1
# Down to the urgency choice (the wheel over the form, not the text box).
wid=$(xdotool search --onlyvisible --name "Get help" | head -1)
xdotool mousemove --window "$wid" 300 520 click --repeat 10 --delay 40 5
sleep 0.6
shoot get-help-expect "Get help"

"$WORK/deskside-ui" requests &
pids+=($!)
shoot my-requests-expect "My requests"
