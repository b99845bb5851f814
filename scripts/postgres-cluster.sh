#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests: no system service, nothing left behind.
#   scripts/postgres-cluster.sh start DIR   initialises and starts a cluster in DIR (created if
#                                           missing) and prints its URL on stdout
#   scripts/postgres-cluster.sh stop DIR    stops it and removes DIR
# The server listens on a unix socket in DIR and on 127.0.0.1 at a free port, with trust
# authentication and fsync off (the data is thrown away). initdb refuses to run as root, so under
# root the server runs as Debian's `postgres` system user.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DATABASE=verdict_test

die() {
  echo "postgres-cluster.sh: $*" >&2
  exit 1
}

[[ $# -eq 2 && ($1 == start || $1 == stop) ]] || die "usage: $0 start|stop DIR"
command=$1
dir=$2
[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] ||
  die "$PG_BIN/initdb or pg_ctl not found: install Debian's postgresql package (scripts/install-deps.sh)"

as_owner=()
owner=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (Debian's postgresql package)"
  as_owner=(runuser -u postgres --)
  owner=postgres
fi

stop_server() {
  "${as_owner[@]}" "$PG_BIN/pg_ctl" stop -D "$dir/data" -m fast -w >/dev/null
}

if [[ $command == stop ]]; then
  [[ -f $dir/data/PG_VERSION ]] || die "no cluster in $dir"
  if "${as_owner[@]}" "$PG_BIN/pg_ctl" status -D "$dir/data" >/dev/null; then
    stop_server || die "pg_ctl could not stop the server in $dir (see $dir/server.log)"
  fi
  rm -rf -- "$dir"
  exit 0
fi

mkdir -p -- "$dir" || die "cannot create $dir"
absolute=$(cd -- "$dir" 2>/dev/null && pwd) || die "cannot enter $dir"
dir=$absolute
[[ -z "$(ls -A -- "$dir")" ]] || die "$dir is not empty: give a new temporary directory"
[[ ${#as_owner[@]} -eq 0 ]] || chown postgres: "$dir"
"${as_owner[@]}" test -w "$dir" ||
  die "$owner cannot write to $dir (its parent directories must be searchable by $owner)"

"${as_owner[@]}" "$PG_BIN/initdb" -D "$dir/data" -U "$owner" --auth=trust --no-locale -E UTF8 \
  >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
"${as_owner[@]}" mkdir "$dir/socket"
printf '%s\n' "listen_addresses = '127.0.0.1'" "unix_socket_directories = '$dir/socket'" \
  "fsync = off" "synchronous_commit = off" "full_page_writes = off" |
  "${as_owner[@]}" tee -a "$dir/data/postgresql.conf" >/dev/null

# A port found free may be taken before the server binds it: then the start fails and another
# port is tried.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=""
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  if "${as_owner[@]}" "$PG_BIN/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port" >/dev/null; then
    started=yes
    break
  fi
  grep -q "could not bind\|Address already in use" "$dir/server.log" 2>/dev/null ||
    die "pg_ctl start failed: $(tail -n 5 "$dir/server.log" 2>/dev/null)"
done
[[ -n $started ]] || die "no free port found for the server"

if ! "${as_owner[@]}" "$PG_BIN/createdb" -h "$dir/socket" -p "$port" -U "$owner" "$DATABASE"; then
  stop_server || true
  die "createdb $DATABASE failed"
fi
echo "postgresql://$owner@127.0.0.1:$port/$DATABASE"
