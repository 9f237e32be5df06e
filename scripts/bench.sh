#!/usr/bin/env bash
# The benchmark: builds the app and the server as the run command does, then measures the app
# against a static HTML form of its Organization step (sizes, Lighthouse, time to a usable field
# on a slow phone, step transition). Prints a table and updates bench/results/latest.json and
# docs/PERFORMANCE.md with its charts. Timings never fail it; see docs/PERFORMANCE.md.
#   bash scripts/bench.sh [--runs 5] [--transitions 20]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh bench
echo "[bench] building the app (scripts/build-app.sh)"
bash scripts/build-app.sh
echo "[bench] building the reference server"
cargo build --quiet -p member-login-server
exec node bench/bench.mjs --dist dist --server target/debug/member-login-server "$@"
