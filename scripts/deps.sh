#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, run and test
# Deskside. Safe to run again: it only installs what is missing.
set -euo pipefail
pkgs=(gcc libc6-dev pkg-config git make
  libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev # fyne
  xvfb dbus dbus-x11 imagemagick xdotool                                                        # real windows + screenshots
  chromium                                                                                # console browser tests
  rpm wixl msitools osslsigncode                                                                                   # inspect .rpm packages
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "Go is not installed: get Go 1.24+ and run again."; exit 1; }
go mod download
