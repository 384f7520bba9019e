#!/usr/bin/env bash
# Installs the system packages Tollgate's tests and demo need, only when they
# are missing, so it is cheap to run before every `make test`.
#   prometheus, promtool   Debian package "prometheus" (real upstream for e2e tests)
#   chromium               Debian packages "chromium" and "chromium-driver" (the chargeback page's browser test)
#   prometheus-alertmanager, amtool
#                          Debian package "prometheus-alertmanager" (SLO alerts delivered end to end)
#   redis-server           Debian package "redis-server" (the results cache's shared backend)
set -euo pipefail

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool   >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool     >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v chromium   >/dev/null 2>&1 || missing+=(chromium chromium-driver)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)

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
# The Debian packages ship systemd units; nothing here starts them, and the
# tests start their own servers on free loopback ports.
if ! $sudo apt-get install -y --no-install-recommends $pkgs >/tmp/tollgate-apt.log 2>&1; then
  $sudo apt-get update >>/tmp/tollgate-apt.log 2>&1
  $sudo apt-get install -y --no-install-recommends $pkgs >>/tmp/tollgate-apt.log 2>&1 || {
    echo "install-deps: apt-get failed; see /tmp/tollgate-apt.log" >&2
    exit 1
  }
fi
command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v chromium >/dev/null &&
  command -v amtool >/dev/null && { command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null; } &&
  command -v redis-server >/dev/null
