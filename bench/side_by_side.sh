#!/usr/bin/env bash
# Issue 20's ratios, each against its limit measured with the same client in the same run:
# `get` over TCP (1 pipelined connection with 256 in flight; 32 with 16 each) and at a steady
# 5,000/s, against build/bench/bare_loop; stdio `tools/call get` against the bare loop and the
# official TypeScript SDK's server, all driven by verdict_load's C++ client (--exec for stdio).
# Usage: bench/side_by_side.sh [BUILD_DIR] [ROUNDS]. Needs tests/e2e's npm packages for the SDK.
set -euo pipefail
build=${1:-build}
rounds=${2:-2}
work=$(mktemp -d)
trap 'kill $server $bare 2>/dev/null; rm -rf "$work"' EXIT
# Fixed ports would meet a server left over from an earlier run: ask the kernel for free ones.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
server_port=$(free_port)
bare_port=$(free_port)
"$build/verdict" serve --no-stdio --listen "tcp://127.0.0.1:$server_port" --db "$work/get.db" \
  --log-level error >/dev/null 2>&1 &
server=$!
"$build/bench/bare_loop" --port "$bare_port" >/dev/null 2>&1 &
bare=$!
sleep 1
load() { "$build/bench/verdict_load" "$@"; }
field() { grep -o "\"$1\":[0-9.]*" | cut -d: -f2; }
ratio() { python3 -c "print(round($1 / $2, 2))"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for shape in "1 256" "32 16"; do
    read -r connections window <<<"$shape"
    ours=$(load --port "$server_port" --method get --seconds 4 --connections "$connections" \
      --window "$window" | field per_second)
    limit=$(load --port "$bare_port" --method get --seconds 4 --connections "$connections" \
      --window "$window" | field per_second)
    echo "round $round: tcp get, $connections connection(s) x $window in flight: verdict $ours/s," \
      "bare loop $limit/s, ratio $(ratio "$ours" "$limit")"
  done
  ours=$(load --port "$server_port" --method get --rate 5000 --seconds 5 | field p99_us)
  limit=$(load --port "$bare_port" --method get --rate 5000 --seconds 5 | field p99_us)
  echo "round $round: tcp get at 5,000/s, p99 from the scheduled time: verdict ${ours} us," \
    "bare loop ${limit} us, ratio $(ratio "$ours" "$limit")"
  ours=$(load --exec "$build/verdict serve --db $work/stdio$round.db --log-level error" \
    --method tools-get --seconds 4 --window 64 | field per_second)
  limit=$(load --exec "$build/bench/bare_loop" --id experiment_bench001 --method tools-get \
    --seconds 4 --window 64 | field per_second)
  sdk=$(load --exec "node bench/stdio/sdk_get_server.mjs" --id experiment_bench001 \
    --method tools-get --seconds 4 --window 64 | field per_second)
  echo "round $round: stdio tools/call get, 64 in flight: verdict $ours/s, bare loop $limit/s," \
    "SDK $sdk/s; to the bare loop $(ratio "$ours" "$limit"), to the SDK $(ratio "$ours" "$sdk")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
