#!/usr/bin/env bash
# The server benchmark: complete email-code logins per second, with p50/p99 latency, on
# loopback, for three set-ups one after the other: SQLite with one server, PostgreSQL with one
# server, and PostgreSQL with two servers (replicas on one database; requests alternate between
# them as a round-robin load balancer would send them). Each set-up gets a fresh database with
# its own members, its own server process(es) and one run of the load generator
# (server/examples/login_load.rs). Prints a table and writes it into docs/PERFORMANCE.md
# (section "Server: logins per second"). Exits 1, leaving the file alone, if any answer was not
# 2xx or any login did not complete. The PostgreSQL cluster is scripts/postgres.sh's throwaway
# one, with fsync off.
#   bash scripts/bench-server.sh [--logins 2000] [--concurrency 16]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

logins=2000
concurrency=16
while [ $# -gt 0 ]; do
  case $1 in
    --logins) logins=${2:?--logins needs a number}; shift 2 ;;
    --concurrency) concurrency=${2:?--concurrency needs a number}; shift 2 ;;
    *) echo "usage: bash scripts/bench-server.sh [--logins N] [--concurrency C]" >&2; exit 2 ;;
  esac
done
case $logins$concurrency in *[!0-9]*) echo "[bench-server] --logins and --concurrency take numbers" >&2; exit 2 ;; esac
[ "$logins" -ge 1 ] && [ "$logins" -le 10000 ] || { echo "[bench-server] --logins: 1 to 10000" >&2; exit 2; }
[ "$concurrency" -ge 1 ] && [ "$concurrency" -le 256 ] || { echo "[bench-server] --concurrency: 1 to 256" >&2; exit 2; }
# Warm-up logins (not measured) before each set-up's measured ones: connections, caches.
warmup=$concurrency
members=$((logins + warmup))

say() { printf '\033[1m[bench-server]\033[0m %s\n' "$*"; }
started=$SECONDS

bash scripts/setup.sh server
say "building the server and the load generator (release)"
build_started=$SECONDS
cargo build --release -p member-login-server --bin member-login-server --example login_load
built=$((SECONDS - build_started))
server=target/release/member-login-server
load=target/release/examples/login_load

work=$(mktemp -d "${TMPDIR:-/tmp}/member-login-bench.XXXXXX")
pids=()
# stop_servers: stops the servers this script started, and waits for them (10 s at most each).
stop_servers() {
  local pid i
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() { stop_servers; rm -rf "$work"; }
# pg_start keeps this trap and runs it after stopping the cluster.
trap cleanup EXIT
source scripts/postgres.sh
pg_start

# seed URL: the Organization "bench" (email codes only) and members bench0…, one CLI process
# each, four at a time (10 minutes at most).
seeding=0
seed() {
  local url=$1 t0=$SECONDS
  timeout 60 "$server" --database-url "$url" org create --alias bench --name Bench \
    --methods email_code >/dev/null
  seq 0 $((members - 1)) | timeout 600 xargs -P 4 -I{} "$server" --database-url "$url" \
    member create --org bench --username bench{} --email bench{}@bench.example >/dev/null
  say "  seeded $members members in $((SECONDS - t0)) s"
  seeding=$((seeding + SECONDS - t0))
}

# start_server URL LOG: starts a server on a free loopback port (30 s at most) and adds its
# base URL to $urls.
start_server() {
  local url=$1 log=$2 base= i
  "$server" --database-url "$url" serve --listen 127.0.0.1:0 --dev \
    --per-ip-limit 1000000 >"$log" 2>&1 &
  pids+=($!)
  for ((i = 0; i < 300; i++)); do
    base=$(sed -n 's|^Member Login is listening on \(http://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$log")
    [ -n "$base" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$base" ]; then
    echo "[bench-server] the server did not start; its log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  urls+=("$base")
}

names=()
results=()
failed=0
# setup NAME DATABASE_URL SERVERS: one measured set-up.
setup() {
  local name=$1 url=$2 count=$3 n line status u args=()
  say "$name"
  seed "$url"
  urls=()
  for ((n = 0; n < count; n++)); do start_server "$url" "$work/server-${#names[@]}-$n.log"; done
  say "  servers: ${urls[*]}"
  for u in "${urls[@]}"; do args+=(--url "$u"); done
  status=0
  timeout 600 "$load" --setup "$name" --logins "$logins" --concurrency "$concurrency" \
    --warmup "$warmup" --org bench --user-prefix bench --email-domain bench.example \
    "${args[@]}" >"$work/load.out" || status=$?
  cat "$work/load.out"
  stop_servers
  line=$(sed -n 's/^RESULT //p' "$work/load.out")
  if [ "$status" -ne 0 ] || [ -z "$line" ]; then
    echo "[bench-server] $name: the load generator failed (status $status)" >&2
    failed=1
  fi
  [ -n "$line" ] || line='{}'
  names+=("$name")
  results+=("$line")
}

pg_db() { # pg_db NAME: a new database in the cluster; prints its URL
  psql -q -X "$MEMBER_LOGIN_TEST_POSTGRES" -c "create database $1" >/dev/null
  echo "${MEMBER_LOGIN_TEST_POSTGRES%/*}/$1"
}

setups_started=$SECONDS
# Other work on the machine skews every figure: keep the 1-minute load average with them.
load_before=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)
setup "SQLite × 1 server" "sqlite://$work/sqlite/bench.sqlite3" 1
url=$(pg_db bench_one)
setup "PostgreSQL × 1 server" "$url" 1
url=$(pg_db bench_two)
setup "PostgreSQL × 2 servers" "$url" 2
measured=$((SECONDS - setups_started - seeding))

# field JSON NAME: a number from a RESULT line (serde_json's compact form).
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }

table="| set-up | logins/s | p50 | p99 | logins | non-2xx answers |
| --- | ---: | ---: | ---: | ---: | ---: |"
for i in "${!names[@]}"; do
  r=${results[$i]}
  table+="
| ${names[$i]} | $(field "$r" per_second) | $(field "$r" p50_ms) ms | $(field "$r" p99_ms) ms | $(field "$r" logins) | $(field "$r" errors) |"
done

cores=$(nproc)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
pg_version=$(psql -X -At "$MEMBER_LOGIN_TEST_POSTGRES" -c 'show server_version' | awk '{print $1}')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- server api 2>/dev/null || commit="$commit + uncommitted changes"
when=$(date -u +%Y-%m-%d)
about="$logins logins after $warmup warm-up ones, $concurrency at a time, per set-up; $when, commit $commit, $cores × ${cpu:-unknown CPU}, 1-minute load average $load_before before the set-ups, PostgreSQL $pg_version. The command took $((SECONDS - started)) s: $built s building, $seeding s seeding, $measured s starting servers and measuring."

echo
echo "$table"
echo
echo "$about"
echo "PostgreSQL ran with fsync=off (and synchronous_commit=off, full_page_writes=off); SQLite in WAL mode with synchronous=NORMAL."

if [ "$failed" -ne 0 ]; then
  echo "[bench-server] some set-up failed: docs/PERFORMANCE.md is left as it was" >&2
  exit 1
fi

# The section "## Server: logins per second" of docs/PERFORMANCE.md, replaced as a whole (up to
# the next "## " heading), or added at the end.
heading="## Server: logins per second"
cat >"$work/section.md" <<EOF
$heading

How many complete email-code logins the reference server does per second, on loopback, on
one machine: \`bash scripts/bench-server.sh\` (\`--logins 2000 --concurrency 16\` by default).
It builds the server and the load generator \`server/examples/login_load.rs\` in release mode,
starts the throwaway PostgreSQL cluster of \`scripts/postgres.sh\`, and measures three set-ups
one after the other, each on a fresh database with the Organization \`bench\` (email codes only)
and its own members, seeded with the admin CLI:

- **SQLite × 1 server**: one server on a SQLite file (WAL mode, \`synchronous=NORMAL\`);
- **PostgreSQL × 1 server**: one server on a database in the cluster;
- **PostgreSQL × 2 servers**: two replicas on one database. The load generator alternates the
  requests of every login between them, as a round-robin load balancer would, so each login
  starts on one replica and continues on the other.

One login is four requests or more: \`POST /api/v1/flows\` with the Organization and username,
\`POST …/code\`, \`GET /api/v1/dev/mailbox?to=…\` every 2 ms until the code's email is there
(the load generator prints how many polls a login took), and \`POST …/code/verify\`, which
must answer 200 with a session cookie. Every login uses its own member, since a member can
have a code sent only every 30 seconds. A login's latency is its wall time from the first
request to the verify answer; logins/s counts the logins completed over the whole measured
run. The servers run with \`--dev\` (the mailbox) and a per-IP limit of 1,000,000 a minute,
since every request comes from 127.0.0.1; each set-up starts with $warmup unmeasured logins. Servers,
database and load generator (one thread) share the machine's cores, so the two replicas do
not get more CPU than one server: the third set-up shows what sharing one database across
replicas costs, not how they scale out. Other work on the machine moves every figure: on a
shared two-core machine with tests and a fuzzer running beside it, one set-up's logins/s moved
by up to a factor of two between runs of the same build (December 2026), enough to change the
order of the three. The last line below gives the load average the run started with.

**PostgreSQL runs with \`fsync=off\`** (and \`synchronous_commit=off\`, \`full_page_writes=off\`):
the cluster is thrown away, so its commits never wait for the disk, while SQLite's
\`synchronous=NORMAL\` in WAL mode does not wait for it on a commit either (only at
checkpoints). A production PostgreSQL with durable commits would be slower than shown.

$table

$about
EOF
doc=docs/PERFORMANCE.md
awk -v heading="$heading" -v section="$work/section.md" '
  function put(  line) { while ((getline line < section) > 0) print line; close(section); done = 1 }
  $0 == heading { skip = 1; put(); next }
  skip && /^## / { skip = 0; print "" }
  !skip { print }
  END { if (!done) { print ""; put() } }
' "$doc" >"$work/doc.md"
cat "$work/doc.md" >"$doc"
say "wrote the table into $doc; the whole run took $((SECONDS - started)) s"
