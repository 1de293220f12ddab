#!/usr/bin/env bash
# Two natter instances on one fresh PostgreSQL database; 20 posters in one
# room (10 on each instance), SUBS subscribers (half on each); prints the
# summed acknowledged posts/s. Usage: pg2.sh BINARY SUBS SECS (BENCH= the bench binary)
set -u
bin=$1; subs=$2; secs=$3
db=bench_$RANDOM$RANDOM
psql -q -h 127.0.0.1 -U postgres -c "create database $db" >/dev/null
url=postgres://postgres@127.0.0.1/$db
args="--post-burst 1000000 --post-rate 1000000 --join-burst 1000000 --join-rate 1000000 --max-streams 100000"
$bin --bind 127.0.0.1:3101 --database-url $url $args >/dev/null 2>&1 & a=$!
$bin --bind 127.0.0.1:3102 --database-url $url $args >/dev/null 2>&1 & b=$!
sleep 2
room=r$RANDOM
${BENCH:-target/release/natter-bench} --addr 127.0.0.1:3101 --pid $a --room $room posts --names a --posters 10 --subscribers $((subs/2)) --secs $secs > /tmp/b1.txt 2>&1 &
p1=$!
${BENCH:-target/release/natter-bench} --addr 127.0.0.1:3102 --pid $b --room $room posts --names b --posters 10 --subscribers $((subs/2)) --secs $secs > /tmp/b2.txt 2>&1
wait $p1
kill $a $b; wait $a $b 2>/dev/null
psql -q -h 127.0.0.1 -U postgres -c "drop database $db with (force)" >/dev/null
s1=$(awk '/posts_per_s/ {print $2}' /tmp/b1.txt); s2=$(awk '/posts_per_s/ {print $2}' /tmp/b2.txt)
p50=$(awk '/p50/ {print $2}' /tmp/b1.txt | head -1); p99=$(awk '/p99/ {print $2}' /tmp/b1.txt | head -1)
echo "$(basename $bin) subs=$subs: $s1 + $s2 = $(echo "$s1 + $s2" | bc) posts/s (A p50 $p50 p99 $p99)"
