#!/usr/bin/env bash
# Issue 19's benchmark: the same workloads against one node on SQLite and one, two and three
# nodes on one PostgreSQL (a throwaway cluster per configuration, scripts/postgres-cluster.sh).
#   read:  per node, `get` of one experiment over 8 pipelined connections (64 in flight each)
#   write: per node, `do update` of one experiment over 1 connection (16 in flight)
#   mixed: per node, three streams at once, 4 connections x 16 in flight each: `do update` of an
#          experiment (a write), `do assign` of a new unit (a write: one exposure) and `get`
# verdict_load drives one port, so each node gets its own load processes and the figures are
# their sums. Everything (nodes, PostgreSQL, the load processes) shares this machine's cores.
# Usage: bench/multinode.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
chmod 755 "$work"  # under root the cluster runs as `postgres`
servers=()
cluster=""
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  servers=()
  if [[ -n $cluster ]]; then "$source_dir/scripts/postgres-cluster.sh" stop "$cluster"; fi
  cluster=""
}
trap 'cleanup; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
field() { grep -o "\"$1\":[0-9.]*" | cut -d: -f2; }
sum() { paste -sd+ | bc; }

ports=()
start_nodes() {  # DB COUNT
  ports=()
  for _ in $(seq "$2"); do
    local port
    port=$(free_port)
    "$build/verdict" serve --db "$1" --no-stdio --listen "tcp://127.0.0.1:$port" \
      --log-level error >/dev/null 2>>"$work/node-$port.log" &
    servers+=($!)
    ports+=("$port")
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 100); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.1
    done
  done
}

# Runs the load processes of one workload on every node at once and prints the summed rates.
run() {  # LABEL WORKLOAD
  local out=$work/out
  rm -rf "$out" && mkdir "$out"
  local loads=()
  for port in "${ports[@]}"; do
    if [[ $2 == read ]]; then
      "$build/bench/verdict_load" --port "$port" --method get --connections 8 --window 64 \
        --seconds "$seconds" >"$out/get-$port" &
      loads+=($!)
    elif [[ $2 == write ]]; then
      "$build/bench/verdict_load" --port "$port" --method update --connections 1 --window 16 \
        --seconds "$seconds" >"$out/update-$port" &
      loads+=($!)
    else
      for method in update assign get; do
        "$build/bench/verdict_load" --port "$port" --method "$method" --connections 4 \
          --window 16 --seconds "$seconds" >"$out/$method-$port" &
        loads+=($!)
      done
    fi
  done
  local failed=0
  for pid in "${loads[@]}"; do wait "$pid" || failed=1; done
  local line="$1, $2:"
  local total=0
  for method in update assign get; do
    compgen -G "$out/$method-*" >/dev/null || continue
    local rate errors
    rate=$(cat "$out/$method"-* | field per_second | sum)
    errors=$(cat "$out/$method"-* | field errors | sum)
    total=$(echo "$total + $rate" | bc)
    line+=" $method $rate/s (p99 $(cat "$out/$method"-* | field p99_us | sort -n | tail -1) us, $errors errors)"
  done
  echo "$line; total $total/s"
  [[ $failed -eq 0 ]] || echo "  (a load process reported errors)"
}

echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "each run: $seconds s; all figures are requests answered per second, summed over the nodes"

start_nodes "$work/sqlite.db" 1
for workload in read write mixed; do run "SQLite, 1 node" "$workload"; done
cleanup

for count in 1 2 3; do
  cluster=$work/cluster$count
  url=$("$source_dir/scripts/postgres-cluster.sh" start "$cluster")
  start_nodes "$url" "$count"
  for workload in read write mixed; do run "PostgreSQL, $count node(s)" "$workload"; done
  cleanup
done
