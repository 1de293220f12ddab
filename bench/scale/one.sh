#!/usr/bin/env bash
# One natter instance; 20 posters in one room and SUBS subscribers.
# Usage: one.sh BINARY sqlite|postgres SUBS SECS (BENCH= the bench binary;
# PG_SET= a setting for the fresh database, e.g. "synchronous_commit = off")
set -u
bin=$1; kind=$2; subs=$3; secs=$4
args="--post-burst 1000000 --post-rate 1000000 --join-burst 1000000 --join-rate 1000000 --max-streams 100000"
if [ $kind = postgres ]; then
  db=bench_$RANDOM$RANDOM; psql -q -h 127.0.0.1 -U postgres -c "create database $db" >/dev/null
  url=postgres://postgres@127.0.0.1/$db
  if [ -n "${PG_SET:-}" ]; then psql -q -h 127.0.0.1 -U postgres -c "alter database $db set $PG_SET" >/dev/null; fi
else
  rm -f /tmp/bench1.db*; url=sqlite:/tmp/bench1.db
fi
$bin --bind 127.0.0.1:3101 --database-url $url $args >/dev/null 2>&1 & a=$!
sleep 2
${BENCH:-target/release/natter-bench} --addr 127.0.0.1:3101 --pid $a posts --posters 20 --subscribers $subs --secs $secs > /tmp/b1.txt 2>&1
kill $a; wait $a 2>/dev/null
[ $kind = postgres ] && psql -q -h 127.0.0.1 -U postgres -c "drop database $db with (force)" >/dev/null
echo "$(basename $bin) $kind subs=$subs: $(awk '/posts_per_s/ {print $2}' /tmp/b1.txt) posts/s p50 $(awk '/post_p50_ms/ {print $2}' /tmp/b1.txt) p99 $(awk '/post_p99_ms/ {print $2}' /tmp/b1.txt)"
