#!/usr/bin/env bash
# Starts berthd in the background if it is not running, waits for its socket, and makes the
# `busybox` image if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
sock=/run/berth/berth.sock
if ! bin/berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup bin/berthd >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do
    [ -S "$sock" ] && bin/berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
  bin/berth version >/dev/null 2>&1 || { echo "berthd did not start; see /var/log/berthd.log" >&2; tail -n 20 /var/log/berthd.log >&2; exit 1; }
fi
bin/berth image inspect busybox >/dev/null 2>&1 || bin/berth image busybox
