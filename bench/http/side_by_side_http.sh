#!/usr/bin/env bash
# Issue 20's first goal over HTTP: `get` as REST `GET /~default/experiments/{id}` and as MCP
# `tools/call get` (POST /mcp, 2026-07-28 headers, as bench/http/compare.mjs sends it) against
# build/bench/bare_http_loop, which answers each request with the bytes Verdict answered it with
# (captured once here), both driven by wrk with the same settings: 1 connection and 32
# connections, DEPTH requests in flight on each (HTTP/1.1 pipelining; default 1, what HTTP
# clients do). Besides the rates it prints each server's CPU time per request, and its ratio, which
# a busy machine disturbs less than the rates. wrk is closed-loop and this machine has no wrk2, so
# there is no open-loop p99 here (bench/side_by_side.sh has one for TCP).
# Usage: bench/http/side_by_side_http.sh [BUILD_DIR] [ROUNDS]; DEPTH=16 to pipeline, SECONDS_PER
# for each run's length. Needs wrk (Debian: apt-get install wrk), which CI does not install.
set -euo pipefail
build=${1:-build}
rounds=${2:-2}
depth=${DEPTH:-1}
seconds=${SECONDS_PER:-4}
if ! command -v wrk >/dev/null; then
  echo "side_by_side_http.sh: needs wrk (Debian/Ubuntu: apt-get install wrk)" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server='' bare=''
trap 'kill $server $bare 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
server_port=$(free_port)
bare_port=$(free_port)
"$build/verdict" serve --no-stdio --listen "http://127.0.0.1:$server_port" --db "$work/get.db" \
  --log-level error >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$server_port/openapi.json" && break
  sleep 0.1
done

created=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"bench"}' \
  "http://127.0.0.1:$server_port/~default/experiments")
id=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$created")
rest_path="/~default/experiments/$id"
mcp_headers=('Content-Type: application/json' 'Accept: application/json, text/event-stream'
  'MCP-Protocol-Version: 2026-07-28' 'Mcp-Method: tools/call' 'Mcp-Name: get')
printf '%s' "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"get\",\
\"arguments\":{\"type\":\"Experiment\",\"id\":\"$id\"},\"_meta\":{\
\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\
\"io.modelcontextprotocol/clientCapabilities\":{}}}}" >"$work/mcp_body.json"

# Verdict's own replies, which the bare loop sends back byte for byte.
curl -sf --include "http://127.0.0.1:$server_port$rest_path" >"$work/rest_reply"
curl_headers=()
for header in "${mcp_headers[@]}"; do curl_headers+=(-H "$header"); done
curl -sf --include "${curl_headers[@]}" --data-binary "@$work/mcp_body.json" \
  "http://127.0.0.1:$server_port/mcp" >"$work/mcp_reply"
grep -q '"result"' "$work/mcp_reply" || { echo "tools/call get failed:" >&2; cat "$work/mcp_reply" >&2; exit 1; }
"$build/bench/bare_http_loop" --port "$bare_port" --get-reply "$work/rest_reply" \
  --post-reply "$work/mcp_reply" &
bare=$!
sleep 0.5

# One wrk run against the server with pid $1 on port $2: requests per second, then that
# server's CPU time (user and system, all its threads) per request in microseconds, which the
# other processes on the machine disturb less than the rate. A run with any error or non-2xx
# answer fails the script.
run() {
  local pid=$1 port=$2 connections=$3 method=$4 path=$5 body=$6 out before after
  shift 6
  before=$(cpu_ticks "$pid")
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" -s "$here/wrk_request.lua" \
    "http://127.0.0.1:$port" -- "$depth" "$method" "$path" "$body" "$@")
  after=$(cpu_ticks "$pid")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "wrk against port $port saw errors:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ { requests = $1 }
    /^Requests\/sec:/ { rate = $2 }
    END { printf "%d %.1f", rate, ticks / hz * 1e6 / requests }' <<<"$out"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ratio() { python3 -c "print(round($1 / $2, 2))"; }
# Prints one line comparing Verdict and the bare loop on the same wrk settings.
compare() {
  local label=$1 ours limit
  shift
  read -r ours ours_cpu <<<"$(run "$server" "$server_port" "$@")"
  read -r limit limit_cpu <<<"$(run "$bare" "$bare_port" "$@")"
  echo "round $round: $label, $1 connection(s): verdict $ours/s ($ours_cpu us CPU each)," \
    "bare loop $limit/s ($limit_cpu us), ratio $(ratio "$ours" "$limit")," \
    "CPU ratio $(ratio "$limit_cpu" "$ours_cpu")"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "reply sizes: REST $(wc -c <"$work/rest_reply") bytes, MCP $(wc -c <"$work/mcp_reply") bytes" \
  "(headers and body); $depth in flight per connection"
for round in $(seq "$rounds"); do
  for connections in 1 32; do
    compare "REST GET" "$connections" GET "$rest_path" -
    compare "MCP tools/call get" "$connections" POST /mcp "$work/mcp_body.json" "${mcp_headers[@]}"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
