#!/usr/bin/env bash
# How many notifying commits one PostgreSQL takes on this machine: pgbench
# with 1, 2, 4 and 8 clients, each transaction an insert, with and without
# a pg_notify, while a listener is attached (as natter's instances are).
# Usage: notify.sh SECS
set -u
secs=${1:-10}
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -n 1)
db=notify_$RANDOM$RANDOM
psql -q -h 127.0.0.1 -U postgres -c "create database $db" >/dev/null
psql -q -h 127.0.0.1 -U postgres -d "$db" -c "create table t (id bigserial primary key, body text)"
scratch=$(mktemp -d)
echo "insert into t (body) values (repeat('x', 300));" > "$scratch/plain.sql"
printf "begin;\ninsert into t (body) values (repeat('x', 300));\nselect pg_notify('bench', 'room 1 1');\ncommit;\n" > "$scratch/notify.sql"
# A listener that stays attached and reads its notifications.
(echo "listen bench;"; while sleep 1; do echo "select 1;"; done) | psql -q -h 127.0.0.1 -U postgres -d "$db" >/dev/null 2>&1 &
listener=$!
for clients in 1 2 4 8; do
  for kind in plain notify; do
    tps=$("$pgbench" -h 127.0.0.1 -U postgres -n -f "$scratch/$kind.sql" -c "$clients" -j "$clients" -T "$secs" "$db" 2>/dev/null \
      | awk '/^tps/ {printf "%.0f", $3}')
    echo "clients=$clients $kind: $tps commits/s"
  done
done
kill $listener 2>/dev/null
psql -q -h 127.0.0.1 -U postgres -c "drop database $db with (force)" >/dev/null
rm -rf "$scratch"
