#!/usr/bin/env bash
# Profiles natter with perf while natter-bench loads it (the profile in
# docs/BENCHMARKS.md). natter on core 0, the generator on core 1.
#
#   bench/profile.sh fanout      # N=1,000, 300 messages at 20/s
#   bench/profile.sh posts       # 32 posters for 10 s
#
# Needs `perf` (linux-perf); NATTER and BENCH as in run.sh. Prints the
# hottest symbols and the system calls; perf.data stays in the scratch dir.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
NATTER="${NATTER:-$repo/target/release/natter}"
BENCH="${BENCH:-$repo/target/release/natter-bench}"
scratch="$(mktemp -d /tmp/natter-profile.XXXXXX)"
ulimit -n 20000
env RUST_LOG=warn TOKIO_WORKER_THREADS=1 NATTER_WORKER_THREADS=1 NATTER_POST_BURST=1000000 NATTER_POST_RATE=1000000 \
  NATTER_JOIN_BURST=1000000 NATTER_JOIN_RATE=1000000 \
  taskset -c 0 "$NATTER" --bind 127.0.0.1:3101 --database-url "sqlite:$scratch/natter.db" \
  >"$scratch/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
sleep 1
case "${1:-fanout}" in
  fanout) load=(fanout -n 1000 -m 300 --rate 20); secs=25 ;;
  posts) load=(posts --posters 32 --secs 10); secs=14 ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
perf record -F 1999 -g -p "$pid" -o "$scratch/perf.data" -- sleep "$secs" >/dev/null 2>&1 &
perf_pid=$!
taskset -c 1 "$BENCH" --addr 127.0.0.1:3101 --pid "$pid" "${load[@]}"
wait "$perf_pid" || true
perf report -i "$scratch/perf.data" --no-children --sort dso,sym -g none 2>/dev/null \
  | grep '%' | sed -E 's/ +/ /g' | head -40 || true
echo "== system calls (inclusive)"
perf report -i "$scratch/perf.data" --children --sort sym -g none 2>/dev/null \
  | sed -E 's/ +/ /g; s/ - - *$//' | grep -E '\[k\] (__x64_sys_|tcp_sendmsg$|net_rx_action$)' | head -12 || true
echo "perf data: $scratch/perf.data"
