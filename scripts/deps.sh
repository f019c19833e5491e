#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, run and test
# Deskside. Safe to run again: it only installs or starts what is missing,
# and never stops or reconfigures a service that already runs.
#
#   scripts/deps.sh        everything `make test` needs (what `make deps` runs)
#   scripts/deps.sh run    only what `make run` needs: packages and Go modules
#
# For the tests it also makes sure PostgreSQL and NATS answer where the tests
# look for them ($DESKSIDE_TEST_DATABASE_URL, default
# postgres://root@127.0.0.1:5432/test; $DESKSIDE_TEST_NATS_URL, default
# nats://127.0.0.1:4222; see server/internal/store/pgtest and
# server/servertest/nats.go). Without them those tests are skipped, and with
# CI=true they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}

sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
apt_updated=""
apt_install() {
  echo "== installing: $*"
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

pkgs=(gcc libc6-dev pkg-config git make
  libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev # fyne
  xvfb dbus dbus-x11 imagemagick xdotool                                                    # real windows + screenshots
  chromium                                                                                  # console browser tests
  rpm wixl msitools osslsigncode                                                            # inspect .rpm and .msi packages
)
missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# Go: the version go.mod asks for (its toolchain line, when there is one,
# else its go line), compared with the Go installed here. GOTOOLCHAIN=local
# and running outside the module show the installed one, not a toolchain the
# go command would switch to.
need=$(sed -n 's/^toolchain go\([0-9][0-9.]*\).*/\1/p' go.mod)
[ -n "$need" ] || need=$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' go.mod)
command -v go >/dev/null || { echo "Go is not installed: Go $need+ is needed (go.mod). Get it from https://go.dev/dl/ and run again."; exit 1; }
have=$(cd / && GOTOOLCHAIN=local go version | awk '{print $3}'); have=${have#go}
older() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]; }
case $have in devel*) ;; *)
  if older "$have" "$need"; then
    toolchain=$(cd / && go env GOTOOLCHAIN 2>/dev/null || echo local)
    # local: never switch; path: only to a toolchain already on $PATH.
    if older "$have" 1.21 || [ "$toolchain" = local ] || [ "${toolchain##*+}" = path ]; then
      echo "Go $have is installed, but Go $need+ is needed (go.mod). Install Go $need or newer from https://go.dev/dl/ and run again."
      exit 1
    fi
    echo "== Go $have is installed, but Go $need+ is needed (go.mod): the go command fetches go$need itself (GOTOOLCHAIN=$toolchain), now"
    go version
  fi ;;
esac

# Every module the build and the tests need, so nothing downloads mid-run.
go mod download
[ "$mode" = run ] && exit 0
# `go mod tidy` (in make lint) also reads the modules that our dependencies'
# own tests import, which go mod download leaves out: fetch them here. Whether
# go.mod is tidy is make lint's to say, so its answer is not wanted here.
go mod tidy -diff >/dev/null 2>&1 || true

# answers HOST PORT: something accepts TCP connections there.
answers() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }
wait_for() { for _ in $(seq 1 60); do answers "$1" "$2" && return 0; sleep 0.5; done; return 1; }

# PostgreSQL. Only the default local database is set up here; another URL is
# someone's own server, and is only checked.
pg_default="postgres://root@127.0.0.1:5432/test?sslmode=disable"
pg_url=${DESKSIDE_TEST_DATABASE_URL:-$pg_default}
# Shown without its query or password.
pg_shown=$(printf '%s' "${pg_url%%\?*}" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:xxxxx@#')
pg_works() {
  if command -v psql >/dev/null; then
    PGCONNECT_TIMEOUT=3 psql "$pg_url" -Atqc 'select 1' >/dev/null 2>&1
  else
    answers 127.0.0.1 5432 && [ "$pg_url" = "$pg_default" ]
  fi
}
# as_postgres runs a command as the postgres system user (peer auth over the
# local socket), from / so it has a directory it may read.
as_postgres() { (cd / && if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi); }
pg_setup() {
  if ! installed postgresql; then apt_install postgresql || return 1; fi
  if ! answers 127.0.0.1 5432; then
    # Debian's clusters: start the one on port 5432 (apt starts it itself
    # where an init system runs; containers often have none).
    read -r ver name < <(pg_lsclusters -h | awk '$3 == 5432 {print $1, $2; exit}') || true
    if [ -z "${ver:-}" ]; then
      echo "   no PostgreSQL cluster on port 5432 (pg_lsclusters); create one with: sudo pg_createcluster --start 15 main"
      return 1
    fi
    echo "== starting PostgreSQL $ver/$name"
    $sudo pg_ctlcluster "$ver" "$name" start || return 1
    wait_for 127.0.0.1 5432 || { echo "   PostgreSQL $ver/$name did not start: see /var/log/postgresql/"; return 1; }
  fi
  # The tests sign in as role root to database test over TCP, where Debian
  # asks for a password: a role made here gets a random one, kept where
  # libpq and pgx look for it (~/.pgpass), so pg_hba.conf stays as it is.
  if [ "$(as_postgres psql -Atqc "SELECT 1 FROM pg_roles WHERE rolname = 'root'")" != 1 ]; then
    echo "== creating the PostgreSQL role root (its password goes to ~/.pgpass)"
    pw=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    # On stdin, not the command line, where ps would show it.
    echo "CREATE ROLE root LOGIN PASSWORD '$pw'" | as_postgres psql -q -v ON_ERROR_STOP=1 || return 1
    touch "$HOME/.pgpass" && chmod 600 "$HOME/.pgpass" || return 1
    echo "127.0.0.1:5432:test:root:$pw" >>"$HOME/.pgpass"
  fi
  if [ "$(as_postgres psql -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    echo "== creating the PostgreSQL database test, owned by root"
    as_postgres createdb -O root test || return 1
  fi
}
if pg_works; then
  echo "== PostgreSQL for the tests answers at $pg_shown"
elif [ "$pg_url" != "$pg_default" ]; then
  echo "warning: PostgreSQL at $pg_shown (DESKSIDE_TEST_DATABASE_URL) does not answer: its tests will be skipped (and fail with CI=true)"
else
  pg_setup || true
  if pg_works; then
    echo "== PostgreSQL for the tests answers at $pg_shown"
  else
    err=$(PGCONNECT_TIMEOUT=3 psql "$pg_url" -Atqc 'select 1' 2>&1 || true)
    echo "warning: the tests cannot use PostgreSQL at $pg_shown: ${err:-not reachable}"
    echo "   its tests will be skipped (and fail with CI=true); point DESKSIDE_TEST_DATABASE_URL at a database they may create schemas in"
  fi
fi

# NATS, the same way: a local nats-server for the default URL.
nats_default="nats://127.0.0.1:4222"
nats_url=${DESKSIDE_TEST_NATS_URL:-$nats_default}
nats_hostport=${nats_url%%,*}; nats_hostport=${nats_hostport#*://}; nats_hostport=${nats_hostport##*@}; nats_hostport=${nats_hostport%%/*}
nats_works() { answers "${nats_hostport%:*}" "${nats_hostport##*:}"; }
nats_setup() {
  if ! installed nats-server; then apt_install nats-server || return 1; fi
  nats_works && return 0 # apt started it (its systemd unit listens on 127.0.0.1:4222)
  if [ -d /run/systemd/system ]; then
    echo "== starting nats-server (systemd)"
    $sudo systemctl enable --now nats-server || return 1
  else
    # No init system (a container): run it in its own session so it outlives
    # this script, logging next to other per-user state.
    log=${XDG_STATE_HOME:-$HOME/.local/state}/deskside/nats-server.log
    mkdir -p "$(dirname "$log")"
    echo "== starting nats-server on 127.0.0.1:4222 (log: $log; it runs until the machine restarts)"
    setsid nats-server -a 127.0.0.1 -p 4222 </dev/null >>"$log" 2>&1 &
  fi
  wait_for 127.0.0.1 4222
}
if nats_works; then
  echo "== NATS for the tests answers at $nats_url"
elif [ "$nats_url" != "$nats_default" ]; then
  echo "warning: NATS at $nats_url (DESKSIDE_TEST_NATS_URL) does not answer: its tests will be skipped (and fail with CI=true)"
elif nats_setup && nats_works; then
  echo "== NATS for the tests answers at $nats_url"
else
  echo "warning: nats-server did not start at 127.0.0.1:4222: the NATS tests will be skipped (and fail with CI=true)"
fi
