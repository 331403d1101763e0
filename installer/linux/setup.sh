#!/usr/bin/env bash
# Installs Lineside and what it needs on Debian/Ubuntu, then either starts it or runs the tests.
#   bash installer/linux/setup.sh run    # install, then open Lineside on the simulated line
#   bash installer/linux/setup.sh test   # install (with test tools), then run the whole test suite
# Idempotent: a second run only checks. Versions come from constraints.txt (reproducible installs).
set -euo pipefail

what="${1:-run}"
case "$what" in run|test) ;; *) echo "usage: $0 run|test" >&2; exit 2 ;; esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# System libraries Qt needs to start (also offscreen), and a Python with venv.
apt_packages=(python3 python3-venv python3-dev libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0
  libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 libxcb-cursor0 libxcb-icccm4
  libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-image0 libxcb-render-util0
  fonts-dejavu-core)
# GigE Vision cameras: Aravis, and what PyGObject is built against.
apt_packages+=(gir1.2-aravis-0.8 libgirepository1.0-dev libcairo2-dev pkg-config gcc)
# The tests' camera peers: Aravis's fake GigE camera (in a network namespace: iproute2) and an
# RTSP server (GStreamer with H.264/H.265 encoders).
if [ "$what" = test ]; then
  apt_packages+=(aravis-tools iproute2 gir1.2-gst-rtsp-server-1.0 gir1.2-gstreamer-1.0
    gir1.2-gst-plugins-base-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
    poppler-utils  # pdftoppm/pdftotext read back the PDF shift report
    strace util-linux  # nothing leaves the machine: every connect traced in a network namespace
    mosquitto  # the MQTT output's tests start a real broker on 127.0.0.1
    postgresql)  # the PostgreSQL output's tests run initdb and a server of their own
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "Installing system packages: ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python 3.11 or 3.12 (pyproject: >=3.11,<3.13); prefer a python3.11 on PATH.
py=""
for cand in python3.11 python3.12 python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(not ((3,11) <= sys.version_info[:2] < (3,13)))'; then
    py="$cand"; break
  fi
done
[ -n "$py" ] || { echo "Lineside needs Python 3.11 or 3.12" >&2; exit 2; }

[ -x .venv/bin/python ] || "$py" -m venv .venv
extra=""
[ "$what" = test ] && extra="[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".${extra}"

if [ "$what" = run ]; then
  exec .venv/bin/lineside
fi
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check inspection app tests
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -q
