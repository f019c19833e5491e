#!/usr/bin/env bash
# The Heads-up window as the real window app (deskside-ui) draws it under
# Xvfb, over a demo agent (a Fake with heads-up items, served on a local API
# socket by TestDemoHeadsUp), with "Fix it for me" clicked on the disk item
# so the size it will clear shows. Writes docs/screenshots/agent-heads-up.png.
#
# Needs: Xvfb, imagemagick (import), xdotool.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/docs/screenshots
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/deskside-ui" ./agent/cmd/deskside-ui
go test -c -o "$work/localapi.test" ./agent/internal/localapi
disp=:$((90 + RANDOM % 50))
Xvfb "$disp" -screen 0 1280x1000x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
export DISPLAY=$disp LANG=C.UTF-8
DESKSIDE_DEMO_SOCKET=$work/agent.sock DESKSIDE_DEMO_SECONDS=60 "$work/localapi.test" -test.run TestDemoHeadsUp >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$work/agent.sock" ] && break; sleep 0.1; done
FYNE_THEME=light "$work/deskside-ui" heads-up --socket "$work/agent.sock" >/dev/null 2>&1 &
pids+=($!)
wid=$(xdotool search --sync --onlyvisible --name "Heads-up" | head -1)
sleep 1.5
# "Fix it for me" on the disk card: the first button of the second card.
xdotool mousemove --window "$wid" "${FIX_X:-70}" "${FIX_Y:-410}" click 1
sleep 1
import -window "$wid" "$out/agent-heads-up.png"
convert "$out/agent-heads-up.png" -strip -colors 256 "PNG8:$out/agent-heads-up.png" 2>/dev/null || true
echo "docs/screenshots/agent-heads-up.png"
