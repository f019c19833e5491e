#!/usr/bin/env bash
# Full fleet benchmark (docs/benchmarks.md): builds the server and the
# simulator, raises the open-files limit, and runs every scenario with
# 19,000 simulated devices against one server node on this machine.
#
#   scripts/bench.sh                    # full run, results/bench-<date>.json
#   DEVICES=5000 HOLD=30s scripts/bench.sh
#   SERVER_BIN=self scripts/bench.sh    # server mode with /debug/pprof and forced GC (default)
#   SERVER_BIN=bin/deskside-server scripts/bench.sh   # the real binary (no forced GC: RSS reads higher)
#   PROFILE=1 scripts/bench.sh          # also save CPU and heap profiles of the server (SERVER_BIN=self)
set -euo pipefail
cd "$(dirname "$0")/.."

DEVICES=${DEVICES:-19000}
HOLD=${HOLD:-75s}            # one ping round (60 s) falls inside the hold
LOAD_FOR=${LOAD_FOR:-15s}
SERVER_BIN=${SERVER_BIN:-self}
ADDR=${ADDR:-127.0.0.1:18080}
OUT=${OUT:-results/bench-$(date +%Y%m%d-%H%M%S).json}

# The hard limit here is 20,000 open files per process: the server holds
# ~19,000 links, each worker ~4,000; the coordinator passes the raised soft
# limit on to both.
ulimit -n "$(ulimit -Hn)"
echo "open files: $(ulimit -n) · cores: $(nproc) · load: $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p bin results
go build -o bin/deskside-server ./server
go build -o bin/deskside-loadtest ./server/loadtest

if [ "${PROFILE:-0}" = 1 ]; then
  # Heap and CPU profiles during the hold, from the server's /debug/pprof.
  (
    sleep "${PROFILE_AFTER:-60}"
    curl -s -o "${OUT%.json}.heap.pprof" "http://$ADDR/debug/pprof/heap" || true
    curl -s -o "${OUT%.json}.cpu.pprof" "http://$ADDR/debug/pprof/profile?seconds=${PROFILE_SECONDS:-20}" || true
  ) &
fi

exec bin/deskside-loadtest run --devices "$DEVICES" --hold "$HOLD" --load-for "$LOAD_FOR" \
  --server-bin "$SERVER_BIN" --addr "$ADDR" --results "$OUT" "$@"
