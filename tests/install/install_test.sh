#!/usr/bin/env bash
# Installs the build into a scratch prefix, moves the tree, and serves from it as a user would:
# the binary finds the hooks installed beside it, --hooks-dir overrides them, --hooks adds more,
# and examples/claude_desktop_config.json starts a working server.
source "$(dirname "$0")/scratch.sh"
build=$1
source=$2
ping='{"jsonrpc":"2.0","id":1,"method":"ping"}'

# Serves one ping with the given binary and options; the log goes to $scratch/log.
serve_ping() {
  local binary=$1; shift
  echo "$ping" | "$binary" serve --db "$scratch/verdict.db" "$@" 2>"$scratch/log"
}

cmake --install "$build" --prefix "$scratch/installed" >/dev/null
[[ -x $scratch/installed/bin/verdict ]] || fail "no bin/verdict"
for hook in "$source"/hooks/*.lua; do
  cmp -s "$hook" "$scratch/installed/share/verdict/hooks/$(basename "$hook")" ||
    fail "hook $(basename "$hook") not installed"
done
shipped=$(ls "$source"/hooks/*.lua | wc -l)

# A moved tree uses its own hooks: a marker script added there is loaded.
mv "$scratch/installed" "$scratch/moved"
printf -- '-- marker\n' >"$scratch/moved/share/verdict/hooks/zz-marker.lua"
serve_ping "$scratch/moved/bin/verdict" | grep -q '"id":1' || fail "moved binary did not answer"
grep -q "from $((shipped + 1)) scripts" "$scratch/log" || fail "moved hooks not loaded: $(cat "$scratch/log")"
grep -q "shipped hooks: $scratch/moved/share/verdict/hooks" "$scratch/log" ||
  fail "log does not name the hooks directory: $(cat "$scratch/log")"

# --hooks-dir replaces the shipped directory; --hooks still adds one.
mkdir "$scratch/own" "$scratch/extra"
printf -- '-- own\n' >"$scratch/own/own.lua"
printf -- '-- extra\n' >"$scratch/extra/extra.lua"
serve_ping "$scratch/moved/bin/verdict" --hooks-dir "$scratch/own" | grep -q '"id":1' || fail "--hooks-dir"
grep -q "from 1 scripts" "$scratch/log" || fail "--hooks-dir not used: $(cat "$scratch/log")"
serve_ping "$scratch/moved/bin/verdict" --hooks-dir "$scratch/own" --hooks "$scratch/extra" >/dev/null
grep -q "from 2 scripts" "$scratch/log" || fail "--hooks beside --hooks-dir: $(cat "$scratch/log")"
if serve_ping "$scratch/moved/bin/verdict" --hooks-dir "$scratch/nowhere" >/dev/null; then
  fail "a missing --hooks-dir was accepted"
fi
grep -q "hooks-dir: .*nowhere is not a directory" "$scratch/log" || fail "missing --hooks-dir message"

# The Claude Desktop example, as a user edits it (their own --db path), with the prefix on PATH.
config=$(node -e '
  const c = require(process.argv[1]).mcpServers.verdict;
  const args = c.args.map((a, i) => (c.args[i - 1] === "--db" ? process.argv[2] : a));
  console.log([c.command, ...args].join("\n"));' "$source/examples/claude_desktop_config.json" \
  "$scratch/desktop.db")
mapfile -t command <<<"$config"
reply=$(printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"claude-desktop","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"find","arguments":{"type":"Experiment"}}}' |
  PATH="$scratch/moved/bin:/usr/bin:/bin" "${command[@]}" 2>"$scratch/log")
grep -q '"id":2,"result":{"content"' <<<"$reply" || fail "claude_desktop_config.json: $reply $(cat "$scratch/log")"
echo "install ok"
