#!/usr/bin/env bash
# Installs the Debian packages Verdict builds and tests with; silent when everything is present.
set -euo pipefail

packages=(cmake g++ pkg-config make libboost1.81-dev libboost-json1.81-dev liblua5.4-dev libsqlite3-dev libpq-dev libssl-dev
          googletest libgtest-dev libgmock-dev libbenchmark-dev clang-format sqlite3 dpkg-dev)
# Tests also need Node.js for the official MCP clients, clang for the fuzzers, Chromium for
# the web console's end-to-end test and PostgreSQL's server for the postgres.* runs (each starts
# a throwaway cluster of its own; the package's own cluster is not used).
if [[ "${1:-}" == "--test" ]]; then
  packages+=(nodejs npm clang libclang-rt-14-dev chromium postgresql)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
# npm may come from NodeSource rather than Debian; a working binary is enough.
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then
  missing=("${missing[@]/npm}")
fi
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null; then
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<<"${missing[*]}"
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
