#!/usr/bin/env bash
# N natter instances on one fresh PostgreSQL database, ROOMS rooms, about
# 20 posters in all and no subscribers; prints the summed acknowledged
# posts/s and what PostgreSQL committed meanwhile.
# Usage: pgn.sh BINARY N ROOMS SECS (BENCH= the bench binary)
set -u
bin=$1; n=$2; rooms=$3; secs=$4
db=bench_$RANDOM$RANDOM
psql -q -h 127.0.0.1 -U postgres -c "create database $db" >/dev/null
url=postgres://postgres@127.0.0.1/$db
args="--post-burst 1000000 --post-rate 1000000 --join-burst 1000000 --join-rate 1000000 --max-streams 100000"
pids=()
for i in $(seq 1 "$n"); do
  $bin --bind 127.0.0.1:$((3100 + i)) --database-url $url $args >/dev/null 2>&1 &
  pids+=($!)
done
sleep 3
# One generator per (instance, room) pair up to max(N, ROOMS), the posters
# spread evenly over them.
procs=$(( n > rooms ? n : rooms ))
per=$(( 20 / procs )); [ "$per" -lt 1 ] && per=1
commits() { psql -h 127.0.0.1 -U postgres -Atc "select xact_commit from pg_stat_database where datname = '$db'"; }
before=$(commits)
gens=()
for k in $(seq 0 $((procs - 1))); do
  inst=$(( k % n )); room=r$(( k % rooms ))
  ${BENCH:-target/release/natter-bench} --addr 127.0.0.1:$((3101 + inst)) --pid "${pids[$inst]}" \
    --room "$room" posts --names "g$k" --posters "$per" --secs "$secs" > "/tmp/pgn.$k.txt" 2>&1 &
  gens+=($!)
done
wait "${gens[@]}"
after=$(commits)
kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null
psql -q -h 127.0.0.1 -U postgres -c "drop database $db with (force)" >/dev/null
total=$(cat /tmp/pgn.*.txt | awk '/posts_per_s/ {s += $2} END {printf "%.0f", s}')
rm -f /tmp/pgn.*.txt
echo "$(basename "$bin") instances=$n rooms=$rooms posters=$((per * procs)): $total posts/s; $(( (after - before) / secs )) commits/s in PostgreSQL (all of them, reads included)"
