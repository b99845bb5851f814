#!/usr/bin/env bash
# Builds the Debian package with CPack, checks its name and declared dependencies, unpacks it
# with dpkg -x into a scratch root (no root rights or container needed) and runs it.
source "$(dirname "$0")/scratch.sh"
build=$1
version=$2

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$scratch/pkg" >"$scratch/cpack.log" 2>&1 ||
  fail "cpack: $(cat "$scratch/cpack.log")"
deb=$scratch/pkg/verdict_${version}_$(dpkg --print-architecture).deb
[[ -f $deb ]] || fail "no $deb: $(ls "$scratch/pkg")"
depends=$(dpkg-deb -f "$deb" Depends)
for library in libsqlite3 liblua5.4 libc6 libstdc++6; do
  grep -q "$library" <<<"$depends" || fail "Depends lacks $library: $depends"
done
dpkg-deb -c "$deb" | grep -q './usr/share/verdict/hooks/starting-validation.lua' || fail "no hooks"

dpkg -x "$deb" "$scratch/root"
"$scratch/root/usr/bin/verdict" --version | grep -qx "verdict $version" || fail "--version"
reply=$(echo '{"jsonrpc":"2.0","id":1,"method":"ping"}' |
  "$scratch/root/usr/bin/verdict" serve --db "$scratch/verdict.db" 2>"$scratch/log")
[[ $reply == '{"jsonrpc":"2.0","id":1,"result":{}}' ]] || fail "ping: $reply $(cat "$scratch/log")"
grep -q "shipped hooks: $scratch/root/usr/share/verdict/hooks" "$scratch/log" ||
  fail "hooks not found in the package: $(cat "$scratch/log")"
echo "deb ok: $(basename "$deb") Depends: $depends"
