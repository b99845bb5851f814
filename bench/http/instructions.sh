#!/usr/bin/env bash
# Instructions per REST `GET /~default/experiments/{id}` (issue 20's HTTP ratios), which no other
# load on the machine disturbs: wrk drives `verdict serve --listen http://...` under valgrind's
# callgrind, CONNECTIONS connections with DEPTH pipelined requests each (default 32 and 16, the
# ratio still short of its target), and a run that only starts and stops is subtracted.
# Usage: bench/http/instructions.sh [BUILD_DIR] [SECONDS]. Needs valgrind and wrk.
set -euo pipefail
build=${1:-build}
seconds=${2:-10}
connections=${CONNECTIONS:-32}
depth=${DEPTH:-16}
for tool in valgrind wrk; do
  command -v "$tool" >/dev/null || { echo "instructions.sh: needs $tool" >&2; exit 2; }
done
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server=''
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Starts the server, under the command words given, and waits until it answers.
start() {
  "$@" "$build/verdict" serve --no-stdio --listen "http://127.0.0.1:$port" --db "$work/get.db" \
    --log-level error >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 300); do
    curl -s -o /dev/null "http://127.0.0.1:$port/openapi.json" && return
    sleep 0.1
  done
  echo "instructions.sh: the server did not start" >&2
  exit 1
}
stop() {
  kill -INT "$server"
  wait "$server" || true
  server=''
}
total() { callgrind_annotate "$1" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'; }

start env
created=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"bench"}' \
  "http://127.0.0.1:$port/~default/experiments")
id=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$created")
stop
start valgrind -q --tool=callgrind --callgrind-out-file="$work/run.out"
out=$(wrk -t1 -c"$connections" -d"${seconds}s" -s "$here/wrk_request.lua" \
  "http://127.0.0.1:$port" -- "$depth" GET "/~default/experiments/$id" -)
stop
if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
  echo "instructions.sh: wrk saw errors:" >&2
  echo "$out" >&2
  exit 1
fi
requests=$(awk '/requests in/ { print $1 }' <<<"$out")
start valgrind -q --tool=callgrind --callgrind-out-file="$work/idle.out"
stop
echo "instructions per REST GET, $connections connections x $depth in flight:" \
  "$((($(total "$work/run.out") - $(total "$work/idle.out")) / requests)) ($requests requests)"
