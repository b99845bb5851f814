#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz and runs each one for SECONDS (default
# 30) on a copy of its seed corpus. Exits non-zero when a target crashes, leaks or times out; the
# crashing input is left in build-fuzz/artifacts/. Installs nothing: CI's install script provides
# clang and libclang-rt-14-dev.
#
#   fuzz/run.sh            # 30 s per target
#   fuzz/run.sh 300        # a longer campaign, 5 minutes per target
set -euo pipefail

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds < 1 )); then
  echo "usage: fuzz/run.sh [seconds-per-target]" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
cxx="${FUZZ_CXX:-clang++}"
targets=(dispatcher filter line_framer)

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz/run.sh: $cxx not found; install clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev) or set FUZZ_CXX" >&2
  exit 1
fi
# libFuzzer ships in compiler-rt; without it the link fails with an obscure message.
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" 2>"$probe/log"; then
  echo "fuzz/run.sh: $cxx cannot link -fsanitize=fuzzer (is libclang-rt-14-dev installed?):" >&2
  cat "$probe/log" >&2
  exit 1
fi

mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVERDICT_FUZZ=ON -DVERDICT_BENCH=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/%/_fuzzer}"

mkdir -p "$build/artifacts"
status=0
for target in "${targets[@]}"; do
  # Work on a copy, so a run adds its discoveries there and the checked-in seeds stay small.
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  cp -n "$root/fuzz/corpus/$target/"* "$corpus/" 2>/dev/null || true
  echo "== $target: ${seconds}s" >&2
  log="$build/$target.log"
  if ! ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$build/fuzz/${target}_fuzzer" "$corpus" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/${target}-" >"$log" 2>&1; then
    echo "fuzz/run.sh: $target failed; see $log and $build/artifacts/" >&2
    tail -n 60 "$log" >&2
    status=1
    continue
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+[[:space:]]+DONE' "$log" >&2 || true
done
exit "$status"
