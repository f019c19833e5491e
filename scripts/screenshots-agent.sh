#!/usr/bin/env bash
# Screenshots of the agent's windows, taken from the real programs: a server
# on SQLite, an agent enrolled to it running with its tray, and each window
# opened as the tray would (`agent ui <view>`, which hands over to the
# deskside-ui window app built next to the agent), under Xvfb with a D-Bus
# session. A technician answers over the REST API. Also measures the agent's
# idle footprint and how fast a window opens. Writes docs/screenshots/agent-*.
#
# Needs: Xvfb, dbus-run-session, imagemagick (import), xdotool, curl, jq-less.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=$repo/docs/screenshots

if [ -z "${DESKSIDE_IN_SESSION:-}" ]; then
  for t in Xvfb dbus-run-session import xdotool curl; do
    command -v "$t" >/dev/null || { echo "missing $t (apt-get install xvfb dbus imagemagick xdotool curl)"; exit 1; }
  done
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "== building the server, the agent and its window app"
  go build -o "$work/deskside-server" ./server
  go build -o "$work/deskside-agent" ./agent
  go build -o "$work/deskside-ui" ./agent/cmd/deskside-ui
  disp=:$((90 + RANDOM % 50))
  Xvfb "$disp" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  trap 'kill $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
  sleep 1
  DESKSIDE_IN_SESSION=1 WORK=$work DISPLAY=$disp LANG=C.UTF-8 HOME=$work/home \
    dbus-run-session -- bash "$0"
  exit
fi

mkdir -p "$HOME" "$out"
port=$((20000 + RANDOM % 20000))
addr=127.0.0.1:$port
srv="$WORK/deskside-server"
agent="$WORK/deskside-agent"
export DESKSIDE_CONFIG_DIR=$WORK/agent DESKSIDE_SOCKET=$WORK/agent.sock
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$srv" serve --data "$WORK/server" --addr "$addr" --server-name "Acme IT" --log-level warn &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
"$srv" admin create --data "$WORK/server" --email rob@acme.test --name Rob --password "correct horse 42" --role technician >/dev/null
token=$("$srv" token create --data "$WORK/server" --group office)
"$agent" enrol --server "http://$addr" --token "$token" >/dev/null

"$agent" run --log-level warn &
agent_pid=$!
pids+=($agent_pid)
for _ in $(seq 1 100); do [ -S "$DESKSIDE_SOCKET" ] && break; sleep 0.1; done
sleep 2

# The technician signs in.
jar=$WORK/jar
csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
  -d '{"email":"rob@acme.test","password":"correct horse 42"}' "http://$addr/api/v1/login" |
  sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')
api() { # method path [json]
  curl -fsS -b "$jar" -X "$1" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "http://$addr/api/v1$2"
}
api PATCH /me '{"greeting":"Hi, I am Rob from IT. I will take care of this."}' >/dev/null

# shoot NAME TITLE: waits for the window, captures it, and keeps a small PNG.
shoot() {
  local wid
  wid=$(xdotool search --sync --onlyvisible --name "$2" | head -1)
  sleep 1.2 # let it draw and load from the agent
  import -window "$wid" "$out/agent-$1.png"
  convert "$out/agent-$1.png" -strip -colors 256 "PNG8:$out/agent-$1.png" 2>/dev/null || true
  echo "   docs/screenshots/agent-$1.png"
}
# close_window TITLE: closes the window and ends its process ($ui_pid):
# without a window manager, destroying the X window leaves a fyne app running.
ui_pid=
close_window() {
  xdotool search --name "$1" windowclose 2>/dev/null || xdotool key Escape
  sleep 0.5
  if [ -n "$ui_pid" ]; then kill "$ui_pid" 2>/dev/null || true; wait "$ui_pid" 2>/dev/null || true; fi
  ui_pid=
}
opentime() { # TITLE COMMAND...: milliseconds from start to the window mapped
  local t0 t1 title=$1
  shift
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 &
  xdotool search --sync --onlyvisible --name "$title" >/dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

echo "== windows"
"$agent" ui get-help >/dev/null 2>&1 &
ui_pid=$!
xdotool search --sync --onlyvisible --name "Get help" >/dev/null
sleep 1
xdotool type --delay 15 "Since this morning my laptop can't see the printer on floor 2."
shoot get-help "Get help"
xdotool key ctrl+Return
sleep 1.5
shoot get-help-sent "Get help"
close_window "Get help"

# Rob picks it up and replies.
rid=$(api GET /requests | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p' | head -1)
api PATCH "/requests/$rid" '{"status":"in_progress","assignee":"me"}' >/dev/null
api POST "/requests/$rid/messages" '{"text":"Thanks for telling us! The floor 2 printer got a new address last night. Could you try again now?"}' >/dev/null
sleep 1.5
"$agent" ui requests >/dev/null 2>&1 &
ui_pid=$!
shoot requests "My requests"
close_window "My requests"

api PATCH "/requests/$rid" '{"status":"resolved"}' >/dev/null
sleep 1.5
"$agent" ui requests >/dev/null 2>&1 &
ui_pid=$!
shoot requests-resolved "My requests"
close_window "My requests"

"$agent" ui what-it-sees >/dev/null 2>&1 &
ui_pid=$!
shoot what-it-sees "What IT can see"
close_window "What IT can see"

api POST /announcements '{"title":"Email maintenance tonight","text":"Email will be unavailable from 22:00 to 23:00 while we upgrade the server. Nothing to do on your side.","severity":"info","target":{"kind":"all","value":""}}' >/dev/null
sleep 1.5
"$agent" ui news >/dev/null 2>&1 &
ui_pid=$!
shoot news "News from IT"
close_window "News from IT"

"$agent" ui about >/dev/null 2>&1 &
ui_pid=$!
shoot about "About Deskside"
close_window "About Deskside"

echo "== measuring"
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sleep 5
hz=$(getconf CLK_TCK)
c0=$(ticks $agent_pid); sleep 60; c1=$(ticks $agent_pid)
idle_rss=$(rss $agent_pid)
cpu=$(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.3f", d / hz / 60 * 100}')
times=() ttimes=()
for _ in 1 2 3; do
  # As the tray opens it (the window app directly)…
  ttimes+=("$(opentime "About Deskside" "$WORK/deskside-ui" about)")
  sleep 1.5
  ui_pid=$(pgrep -n -f "deskside-ui about")
  close_window "About Deskside"
  # …and as `agent ui about` does (the agent hands over to it).
  times+=("$(opentime "About Deskside" "$agent" ui about)")
  sleep 1.5
  wpid=$(pgrep -n -f "deskside-ui about")
  win_rss=$(rss "$wpid")
  ui_pid=$wpid
  close_window "About Deskside"
done
# The same agent without its tray, for comparison.
kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
"$agent" run --headless --log-level warn &
headless_pid=$!
pids+=($headless_pid)
sleep 60
headless_rss=$(rss $headless_pid)
# DESKSIDE_COMPARE_AGENT: another agent build (e.g. an older release) to
# measure the same way, headless, for a before/after line.
if [ -n "${DESKSIDE_COMPARE_AGENT:-}" ]; then
  kill "$headless_pid"; wait "$headless_pid" 2>/dev/null || true
  "$DESKSIDE_COMPARE_AGENT" run --headless --log-level warn 2>/dev/null &
  cmp_pid=$!
  pids+=($cmp_pid)
  sleep 60
  cmp_rss=$(rss $cmp_pid)
fi
size() { echo $(($(stat -c %s "$1") / 1024 / 1024)); }
# Figures from earlier layouts are kept below an "Earlier" line.
earlier=$(sed -n '/^Earlier/,$p' "$out/agent-figures.txt" 2>/dev/null || true)
{
  echo "Deskside agent figures ($(date -u +%F), Xvfb 1280x800, software GL, $(nproc) cores)"
  echo "agent run with tray, idle RSS (60 s): $((idle_rss / 1024)) MB"
  echo "agent run --headless, idle RSS (60 s): $((headless_rss / 1024)) MB"
  echo "agent run with tray, idle CPU (60 s): ${cpu} % of one core"
  echo "tray click to window mapped (about, ms): ${ttimes[*]}"
  echo "agent ui about to window mapped (ms): ${times[*]}"
  echo "window process RSS while open:        $((win_rss / 1024)) MB"
  echo "binaries: deskside-agent $(size "$agent") MB (no fyne, no GL), deskside-ui $(size "$WORK/deskside-ui") MB"
  if [ -n "${cmp_rss:-}" ]; then
    echo "for comparison, ${DESKSIDE_COMPARE_LABEL:-$DESKSIDE_COMPARE_AGENT} run --headless, idle RSS (60 s): $((cmp_rss / 1024)) MB"
  fi
  if [ -n "$earlier" ]; then echo; echo "$earlier"; fi
} | tee "$out/agent-figures.txt.new"
mv "$out/agent-figures.txt.new" "$out/agent-figures.txt"
