#!/usr/bin/env bash
# Quick start: install what is missing, build, and serve MCP on stdio over ./verdict.db.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target verdict -j"$(nproc)" >&2
exec build/verdict serve "$@"
