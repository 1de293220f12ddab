#!/usr/bin/env bash
# Soak natter: the real binary (release build) on a fresh SQLite file, or
# several instances on one fresh PostgreSQL database, thousands of SSE
# subscribers and a steady post rate, all on 127.0.0.1. Prints each
# instance's RSS and the delivery latency (p50/p99) every SOAK_SAMPLE_SECS
# and, at the end, how many deliveries were lost or duplicated (the run
# fails unless both are 0).
#
#   scripts/soak.sh [seconds] [subscribers] [posts-per-second]
#   scripts/soak.sh 600 2000 20        # the SQLite figures in docs/RELIABILITY.md
#   SOAK_INSTANCES=2 SOAK_ROOMS=4 scripts/soak.sh 3600 1000 10
#                                      # two instances on PostgreSQL
#
# Bounded: at most 3600 s, 5000 subscribers, 500 posts/s and 4 instances
# (enforced by the soak itself, tests/reliability/soak.rs). Other knobs:
# SOAK_INSTANCES (default 1, on SQLite; 2 or more run on PostgreSQL at
# 127.0.0.1:5432), SOAK_ROOMS (default 10), SOAK_SAMPLE_SECS (default 30),
# SOAK_PROFILE=debug to skip the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_SECS="${1:-${SOAK_SECS:-60}}"
export SOAK_SUBSCRIBERS="${2:-${SOAK_SUBSCRIBERS:-2000}}"
export SOAK_RATE="${3:-${SOAK_RATE:-20}}"
profile=(--release)
if [ "${SOAK_PROFILE:-release}" = debug ]; then profile=(); fi
# Each subscriber is a socket at both ends.
ulimit -n "$(( SOAK_SUBSCRIBERS * 2 + 1024 ))" 2>/dev/null || true
exec cargo test "${profile[@]}" --test reliability soak::soak -- --ignored --exact --nocapture
