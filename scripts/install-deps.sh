#!/usr/bin/env bash
# Installs the system packages Tollgate's tests and demo need, only when they
# are missing, so it is cheap to run before every `make test`.
#   prometheus, promtool   Debian package "prometheus" (real upstream for e2e tests)
#   chromium               Debian packages "chromium" and "chromium-driver" (the chargeback page's browser test)
set -euo pipefail

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool   >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium   >/dev/null 2>&1 || missing+=(chromium chromium-driver)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
echo "install-deps: installing Debian packages: $pkgs" >&2
export DEBIAN_FRONTEND=noninteractive
# The Debian package ships a systemd unit; nothing here starts it, and the
# tests start their own servers on free loopback ports.
if ! $sudo apt-get install -y --no-install-recommends $pkgs >/tmp/tollgate-apt.log 2>&1; then
  $sudo apt-get update >>/tmp/tollgate-apt.log 2>&1
  $sudo apt-get install -y --no-install-recommends $pkgs >>/tmp/tollgate-apt.log 2>&1 || {
    echo "install-deps: apt-get failed; see /tmp/tollgate-apt.log" >&2
    exit 1
  }
fi
command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v chromium >/dev/null
