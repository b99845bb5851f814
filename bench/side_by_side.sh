#!/usr/bin/env bash
# Issue 20's ratios, each against its limit measured with the same client in the same run:
# `get` over TCP (1 pipelined connection with 256 in flight; 32 with 16 each) and at a steady
# 5,000/s, against build/bench/bare_loop; stdio `tools/call get` against the bare loop and the
# official TypeScript SDK's server, all driven by verdict_load's C++ client (--exec for stdio).
# The bare loop answers twice: with the issue's short fixed reply, and with Verdict's own reply
# to the same request (--reply), so that both sides write and the client reads the same bytes;
# for stdio also in the pieces Verdict answers stdin in (--lines-per-write).
# Usage: bench/side_by_side.sh [BUILD_DIR] [ROUNDS]. Needs tests/e2e's npm packages for the SDK.
set -euo pipefail
build=${1:-build}
rounds=${2:-2}
work=$(mktemp -d)
trap 'kill $server $bare $sized_loop 2>/dev/null; rm -rf "$work"' EXIT
# Fixed ports would meet a server left over from an earlier run: ask the kernel for free ones.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# One experiment in a database file, and Verdict's replies to `get` and `tools/call get` of it.
python3 - "$build/verdict" "$work" <<'PY'
import json, subprocess, sys
verdict, work = sys.argv[1:3]
server = subprocess.Popen([verdict, "serve", "--db", f"{work}/get.db", "--log-level", "error"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
def ask(method, params):
    server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                   "params": params}) + "\n")
    server.stdin.flush()
    return server.stdout.readline()
ask("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "side_by_side", "version": "1"}})
created = json.loads(ask("do", {"type": "Experiment", "verb": "create", "data": {"name": "bench"}}))
experiment = created["result"]["id"]
open(f"{work}/id", "w").write(experiment)
open(f"{work}/get.reply", "w").write(ask("get", {"type": "Experiment", "id": experiment}))
open(f"{work}/tools-get.reply", "w").write(
    ask("tools/call", {"name": "get", "arguments": {"type": "Experiment", "id": experiment}}))
server.stdin.close()
server.wait()
PY
experiment=$(cat "$work/id")
server_port=$(free_port)
bare_port=$(free_port)
sized_port=$(free_port)
"$build/verdict" serve --no-stdio --listen "tcp://127.0.0.1:$server_port" --db "$work/get.db" \
  --log-level error >/dev/null 2>&1 &
server=$!
"$build/bench/bare_loop" --port "$bare_port" >/dev/null 2>&1 &
bare=$!
"$build/bench/bare_loop" --port "$sized_port" --reply "$work/get.reply" >/dev/null 2>&1 &
sized_loop=$!
sleep 1
load() { "$build/bench/verdict_load" "$@"; }
field() { grep -o "\"$1\":[0-9.]*" | cut -d: -f2; }
ratio() { python3 -c "print(round($1 / $2, 2))"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for shape in "1 256" "32 16"; do
    read -r connections window <<<"$shape"
    shape_load() {
      load --port "$1" --id "$experiment" --method get --seconds 4 --connections "$connections" \
        --window "$window" | field per_second
    }
    ours=$(shape_load "$server_port")
    limit=$(shape_load "$bare_port")
    sized=$(shape_load "$sized_port")
    echo "round $round: tcp get, $connections connection(s) x $window in flight: verdict $ours/s;" \
      "bare loop $limit/s (ratio $(ratio "$ours" "$limit")), with Verdict's reply $sized/s" \
      "(ratio $(ratio "$ours" "$sized"))"
  done
  ours=$(load --port "$server_port" --id "$experiment" --method get --rate 5000 --seconds 5 |
    field p99_us)
  limit=$(load --port "$bare_port" --id "$experiment" --method get --rate 5000 --seconds 5 |
    field p99_us)
  echo "round $round: tcp get at 5,000/s, p99 from the scheduled time: verdict ${ours} us," \
    "bare loop ${limit} us, ratio $(ratio "$ours" "$limit")"
  stdio_load() {
    load --exec "$1" --id "$experiment" --method tools-get --seconds 4 --window 64 |
      field per_second
  }
  ours=$(stdio_load "$build/verdict serve --db $work/get.db --log-level error")
  limit=$(stdio_load "$build/bench/bare_loop")
  sized=$(stdio_load "$build/bench/bare_loop --reply $work/tools-get.reply")
  # The bare loop answering a read in the pieces Verdict's stdin does (kStdioLinesPerWrite in
  # server/server.cpp), each written before the next is parsed, so that the client works on
  # replies while the server answers the rest.
  pieces=$(stdio_load "$build/bench/bare_loop --lines-per-write 16")
  # The SDK server holds one experiment of its own, in memory.
  sdk=$(experiment=experiment_bench001 stdio_load "node bench/stdio/sdk_get_server.mjs")
  echo "round $round: stdio tools/call get, 64 in flight: verdict $ours/s; bare loop $limit/s" \
    "(ratio $(ratio "$ours" "$limit")), with Verdict's reply $sized/s (ratio" \
    "$(ratio "$ours" "$sized")), writing in Verdict's pieces $pieces/s (ratio" \
    "$(ratio "$ours" "$pieces")); SDK $sdk/s (${ours}/SDK $(ratio "$ours" "$sdk"))"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
