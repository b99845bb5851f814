#!/usr/bin/env bash
# Installs what is missing, builds with -Werror, and runs every test: a normal build, then
# AddressSanitizer + UBSan. The end-to-end tests use the official MCP clients from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)

if [[ -f tests/e2e/package.json ]]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" -DVERDICT_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"
}

echo "== normal build" >&2
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [[ "${VERDICT_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== AddressSanitizer + UBSan build" >&2
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DVERDICT_SANITIZE=ON -DVERDICT_BENCH=OFF
fi
echo "all tests passed" >&2
