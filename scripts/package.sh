#!/usr/bin/env bash
# Builds every Deskside package into dist/ (or --out DIR): .deb, .rpm, the
# per-user tarball, the Windows MSI and .exe, and the macOS .app layout.
# Arguments go to `go run ./installer build`; see docs/install.md.
#
#   scripts/package.sh --version 1.2.0
#   scripts/package.sh --version 1.2.0 --server https://help.example.com --token dsk1_...
#   scripts/package.sh --version 1.2.0 --windows-gui --sign-cert cert.pem --sign-key key.pem
#
# It installs the Debian tools it needs when they are missing: wixl and
# msitools (MSI), osslsigncode (signing), gcc and the GL/X11 headers for the
# Linux window app deskside-ui (cgo, fyne), and with --windows-gui the
# mingw-w64 cross-compiler (large; deskside-ui.exe then takes ~5 min cold).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(wixl msitools osslsigncode gcc libc6-dev libgl1-mesa-dev xorg-dev)
for a in "$@"; do
  [ "$a" = --windows-gui ] && pkgs+=(gcc-mingw-w64-x86-64)
done
[ -n "${DESKSIDE_WINDOWS_GUI:-}" ] && pkgs+=(gcc-mingw-w64-x86-64)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "package.sh: missing tools (${missing[*]}): install them with your package manager" >&2
    exit 1
  fi
  echo "== installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec go run ./installer build "$@"
