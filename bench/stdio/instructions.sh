#!/usr/bin/env bash
# Instructions per stdio `tools/call get` (issue 20), which no other load on the machine
# disturbs: verdict_load drives `verdict serve` and build/bench/bare_loop over stdio with 64
# requests in flight, as bench/side_by_side.sh does, each under valgrind's callgrind; a run that
# only initializes is subtracted. Prints both counts and the bare loop's share of Verdict's.
# Usage: bench/stdio/instructions.sh [BUILD_DIR] [SECONDS]. Needs valgrind.
set -euo pipefail
build=${1:-build}
seconds=${2:-8}
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
init='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"instructions","version":"1"}}}'
created=$(printf '%s\n%s\n' "$init" \
  '{"jsonrpc":"2.0","id":1,"method":"do","params":{"type":"Experiment","verb":"create","data":{"name":"bench"}}}' |
  "$build/verdict" serve --db "$work/get.db" --log-level error | tail -1)
experiment=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["result"]["id"])' "$created")
printf '%s\n' "$init" >"$work/init"
total() { callgrind_annotate "$1" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'; }
# Instructions per request of one server command line.
per_request() {
  local out requests
  out=$("$build/bench/verdict_load" --exec \
    "valgrind -q --tool=callgrind --callgrind-out-file=$work/run.out $1" --id "$experiment" \
    --method tools-get --seconds "$seconds" --window 64)
  requests=$(grep -o '"requests":[0-9]*' <<<"$out" | cut -d: -f2)
  valgrind --tool=callgrind --callgrind-out-file="$work/init.out" $1 <"$work/init" >/dev/null 2>&1
  echo $((($(total "$work/run.out") - $(total "$work/init.out")) / requests))
}
ours=$(per_request "$build/verdict serve --db $work/get.db --log-level error")
limit=$(per_request "$build/bench/bare_loop")
echo "instructions per stdio tools/call get, 64 in flight: verdict $ours, bare loop $limit" \
  "(ratio $(python3 -c "print(round($limit / $ours, 2))"))"
