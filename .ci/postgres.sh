#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the tests on 127.0.0.1 only and print its URL.
# The cluster lives in /tmp, owned by the postgres user, with a random password.
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PORT=${BOTBUILDER_TEST_PG_PORT:-55432}
# Another port is another cluster (make loadtest restarts its own): never the tests' folder.
DATA=/tmp/botbuilder-test-pg
if [ "$PORT" != 55432 ]; then DATA="$DATA-$PORT"; fi
if ! "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" -q 2>/dev/null; then
  rm -rf "$DATA"
  mkdir -p "$DATA"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DATA.pw"
  chown postgres "$DATA" "$DATA.pw"
  chmod 600 "$DATA.pw"
  runuser -u postgres -- "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$DATA.pw" \
    -A scram-sha-256 >/dev/null
  runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp" start >/dev/null
fi
echo "postgresql://postgres:$(cat "$DATA.pw")@127.0.0.1:$PORT/postgres"
