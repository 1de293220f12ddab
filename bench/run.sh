#!/usr/bin/env bash
# Runs natter-bench against natter and nginx+nchan on this machine: the
# server pinned to core 0, the generator to core 1, a fresh server (and a
# fresh SQLite file) for every run. Results are appended as JSON lines to
# $RESULTS; `natter-bench summary $RESULTS` prints the medians.
#
#   bench/run.sh table                  # the whole table of docs/BENCHMARKS.md
#   bench/run.sh fanout natter 1000 200 20   # one fan-out run: target N M rate
#   bench/run.sh posts natter 32 1000   # posters, subscribers (server on 1 core)
#   bench/run.sh posts2 natter 32 1000  # the same with natter on both cores
#   bench/run.sh posts natter 32 1000 0 1 --elsewhere  # streams in another room
#   bench/run.sh page                   # the room page with 50 messages
#   bench/run.sh ab OLD NEW             # A/B of two natter binaries and nchan
#   bench/run.sh paths                  # streams after a page and on fresh connections
#   bench/run.sh smoke                  # the CI smoke run (debug build)
#
# Environment: NATTER (natter binary), BENCH (natter-bench binary), RESULTS,
# ROUNDS (3), LABEL, STREAM_PATH (browser: each stream after its page on
# the same connection, the default; fresh: on a connection of its own),
# FANOUT_ARGS (more natter-bench fanout flags), and NATTER_ENV (extra
# server settings, e.g.
# "RUST_LOG=natter=info,tower_http=info,warn" to measure with request logs).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
NATTER="${NATTER:-$repo/target/release/natter}"
BENCH="${BENCH:-$repo/target/release/natter-bench}"
RESULTS="${RESULTS:-$repo/bench/results.jsonl}"
ROUNDS="${ROUNDS:-3}"
LABEL="${LABEL:-}"
NATTER_ENV="${NATTER_ENV:-}"
scratch="$(mktemp -d /tmp/natter-bench.XXXXXX)"
server_pid=""
measured_pid=""

ulimit -n 20000
# Other work on the machine shares core 0 with the server: as root, give the
# server and the generator precedence over it (the same for both targets).
prio=""
if [ "$(id -u)" = 0 ]; then prio="nice -n -10"; fi

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  measured_pid=""
}
trap 'stop_server; rm -rf "$scratch"' EXIT

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# natter on core 0 with one runtime worker (--worker-threads 1: a
# current-thread runtime; builds before that flag read TOKIO_WORKER_THREADS).
# The flood limits are lifted: every simulated user comes from 127.0.0.1.
start_natter() {
  local cores="${1:-0}" workers="${2:-1}"
  rm -rf "$scratch/natter" && mkdir -p "$scratch/natter"
  env RUST_LOG=warn NATTER_WORKER_THREADS="$workers" TOKIO_WORKER_THREADS="$workers" \
    NATTER_JOIN_BURST=1000000 NATTER_JOIN_RATE=1000000 \
    NATTER_POST_BURST=1000000 NATTER_POST_RATE=1000000 \
    NATTER_MAX_STREAMS=20000 $NATTER_ENV \
    $prio taskset -c "$cores" "$NATTER" --bind 127.0.0.1:3100 \
    --database-url "sqlite:$scratch/natter/natter.db" >"$scratch/natter/log" 2>&1 &
  server_pid=$!
  measured_pid=$server_pid
  wait_port 3100
  addr=127.0.0.1:3100
}

# nginx+nchan on core 0, one worker; the worker's CPU and RSS are measured.
start_nchan() {
  rm -rf "$scratch/nginx" && mkdir -p "$scratch/nginx/tmp"
  $prio taskset -c 0 nginx -p "$scratch/nginx/" -c "$repo/bench/nchan.conf" -g 'daemon off;' \
    >"$scratch/nginx/log" 2>&1 &
  server_pid=$!
  wait_port 8090
  measured_pid="$(pgrep -P "$server_pid" | head -n 1)"
  addr=127.0.0.1:8090
}

start() { if [ "$1" = nchan ]; then start_nchan; else start_natter "${@:2}"; fi; }

bench() {
  $prio taskset -c 1 "$BENCH" --target "$target" --addr "$addr" --pid "$measured_pid" \
    --json "$RESULTS" --label "$LABEL" "$@"
}

fanout() { # target N M rate
  target=$1; start "$target"
  bench fanout -n "$2" -m "$3" --rate "$4" --path "${STREAM_PATH:-browser}" ${FANOUT_ARGS:-} \
    || echo "run failed: fanout $*" >&2
  stop_server
}

posts() { # target posters subscribers [cores workers] [--elsewhere]
  target=$1; start "$target" "${4:-0}" "${5:-1}"
  LABEL="$LABEL${4:+ cores=$4}" bench posts --posters "$2" --subscribers "$3" --secs 10 ${6:-} \
    || echo "run failed: posts $*" >&2
  stop_server
}

page() {
  target=natter; start natter
  bench page --conns 16 --secs 10 || echo "run failed: page" >&2
  stop_server
}

table() {
  for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round of $ROUNDS ($(cut -d' ' -f1-3 /proc/loadavg))"
    for target in natter nchan; do
      fanout "$target" 1000 200 20     # 20k deliveries/s for 10 s
      fanout "$target" 10000 50 5      # p99 and RSS at 10k, 5 msg/s
    done
    for n in 5000 15000; do            # cost per delivery against N
      fanout natter "$n" 50 5
      fanout nchan "$n" 50 5
    done
    posts natter 32 0                  # posting alone, one core
    posts natter 32 0 0,1 2            # natter on both cores
    posts natter 32 1000 0 1 --elsewhere   # 1,000 streams open in another room
    posts natter 32 1000 0,1 2 --elsewhere
    posts natter 32 1000               # every post fanned out to 1,000
    posts nchan 32 1000
    page
  done
  "$BENCH" summary "$RESULTS"
}

# The A/B tables of docs/BENCHMARKS.md: two natter binaries (build the
# older commit in a worktree: `git worktree add /tmp/old <commit> && cargo
# build --release --manifest-path /tmp/old/Cargo.toml`) and nchan,
# interleaved, labelled "a" and "b".
ab() {
  local a="$1" b="$2"
  for round in $(seq 1 "$ROUNDS"); do
    echo "== A/B round $round of $ROUNDS ($(cut -d' ' -f1-3 /proc/loadavg))"
    for side in a b nchan; do
      local binary="$a" target=natter
      case "$side" in b) binary="$b" ;; nchan) target=nchan ;; esac
      NATTER="$binary" LABEL="$side" fanout "$target" 1000 200 20
      NATTER="$binary" LABEL="$side" fanout "$target" 10000 50 5
      NATTER="$binary" LABEL="$side" posts "$target" 32 1000
      if [ "$target" = natter ]; then
        NATTER="$binary" LABEL="$side" posts natter 32 0 0,1 2
      fi
    done
  done
  "$BENCH" summary "$RESULTS"
}

# Streams along both paths (docs/BENCHMARKS.md, "What browsers cost"):
# after the page on the same connection, as browsers and pooling proxies
# open them, and on a connection of their own; natter and nchan
# interleaved, labelled "browser" and "fresh".
paths() {
  for round in $(seq 1 "$ROUNDS"); do
    echo "== paths round $round of $ROUNDS ($(cut -d' ' -f1-3 /proc/loadavg))"
    for path in browser fresh; do
      for target in natter nchan; do
        STREAM_PATH=$path LABEL=$path fanout "$target" 1000 200 20
        STREAM_PATH=$path LABEL=$path fanout "$target" 10000 50 5
      done
    done
  done
  "$BENCH" summary "$RESULTS"
}

# Posts alone against the mixed workload of edits and reactions
# (docs/BENCHMARKS.md, "Changes cost what posts cost"): 32 posters, 1,000
# subscribers receiving everything, interleaved, labelled "posts" and
# "mixed".
mixed() {
  for round in $(seq 1 "$ROUNDS"); do
    echo "== mixed round $round of $ROUNDS ($(cut -d' ' -f1-3 /proc/loadavg))"
    LABEL=posts posts natter 32 1000
    LABEL=mixed posts natter 32 1000 0 1 "--reactions 15 --edits 5"
  done
  "$BENCH" summary "$RESULTS"
}

# A 1,000-member room with the usual posting (5 messages/s), without and
# with one typing signal per second (docs/BENCHMARKS.md, "Typing"),
# interleaved, labelled "quiet" and "typing".
typing() {
  for round in $(seq 1 "$ROUNDS"); do
    echo "== typing round $round of $ROUNDS ($(cut -d' ' -f1-3 /proc/loadavg))"
    LABEL=quiet fanout natter 1000 50 5
    target=natter; start natter
    LABEL=typing bench fanout -n 1000 -m 50 --rate 5 --typing 1 || echo "run failed: typing" >&2
    stop_server
  done
  "$BENCH" summary "$RESULTS"
}

case "${1:-table}" in
  table) table ;;
  fanout) fanout "${@:2}" ;;
  posts) posts "${@:2}" ;;
  posts2) posts "$2" "$3" "$4" 0,1 2 "${5:-}" ;;
  page) page ;;
  ab) ab "$2" "$3" ;;
  mixed) mixed ;;
  paths) paths ;;
  typing) typing ;;
  smoke) cd "$repo" && cargo run -p natter-bench -- smoke ;;
  *) sed -n '2,18p' "$0"; exit 2 ;;
esac
