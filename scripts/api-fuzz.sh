#!/usr/bin/env bash
# Fuzzes the login API against its own OpenAPI document (docs/openapi.json, as the server serves
# it) with schemathesis, a third-party property-based API fuzzer from PyPI, pinned below and
# installed into .venv-fuzz/ (gitignored). Builds the server, starts it on a free loopback port
# with a throwaway SQLite database, the demo Organization and the dev mailbox, and sends it
# generated requests, valid and invalid, with the headers a real client sends (x-member-login,
# Origin) and, on /api/v1/session…, the session of the demo member sam (scripts/api-fuzz-hooks.py).
# Checks every answer: no 5xx; only documented statuses, content types and headers; bodies valid
# against the document's schemas; schema-valid requests accepted and schema-invalid ones refused.
# Ends with "api-fuzz: N passed, M failed" (API operations, plus the stateful run that chains
# them, a flow's id from one answer into the next call) and exits non-zero on any failure.
#
# Settings (environment): API_FUZZ_SECONDS, the time budget of the fuzzing (default 90; the whole
# command takes about 10 s more once the server is built, and half a minute more the first time,
# for the install);
# API_FUZZ_EXAMPLES, test cases per operation and round (default 100); API_FUZZ_SEED, to repeat a
# run's generated data (printed as "Seed:" by each run).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

SCHEMATHESIS_VERSION=4.32.5
VENV=.venv-fuzz
SECONDS_BUDGET=${API_FUZZ_SECONDS:-90}
EXAMPLES=${API_FUZZ_EXAMPLES:-100}
SERVER=target/debug/member-login-server

step() { printf '\033[1m[api-fuzz]\033[0m %s\n' "$*"; }
fail() { # fail MESSAGE: a failure before any operation was tested counts as one
  echo "[api-fuzz] $*" >&2
  echo "api-fuzz: 0 passed, 1 failed"
  exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }
has_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; }

# --- schemathesis in a venv ------------------------------------------------------
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed (Debian: apt-get install python3 python3-venv)"
venv_ok() { "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; }
if ! venv_ok; then
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    # Debian's python3 leaves venv (ensurepip) to a package of its own.
    if is_root && has_apt; then
      step "installing python3-venv (apt-get)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv >/dev/null ||
        fail "could not install python3-venv"
      python3 -m venv "$VENV" || fail "python3 -m venv failed"
    else
      fail "python3 cannot make a venv: install python3-venv (sudo apt-get install python3-venv) and run this again"
    fi
  fi
fi
if "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "version $SCHEMATHESIS_VERSION"; then
  echo "[api-fuzz]   ok: schemathesis $SCHEMATHESIS_VERSION"
else
  step "installing schemathesis $SCHEMATHESIS_VERSION into $VENV/ (pip)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" ||
    fail "pip could not install schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- the server ------------------------------------------------------------------
step "building the server (cargo build -p member-login-server)"
cargo build --quiet -p member-login-server || fail "the server does not build"

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

: >"$tmp/server.log"
"$SERVER" serve --listen 127.0.0.1:0 --dev --demo \
  --per-ip-limit 1000000 --per-member-limit 1000000 \
  --database-url "sqlite://$tmp/fuzz.sqlite3" >"$tmp/server.log" 2>&1 &
server_pid=$!
base=
for _ in $(seq 1 300); do
  base=$(sed -n 's|^Member Login is listening on \(http://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$tmp/server.log")
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$base" ] || { cat "$tmp/server.log" >&2; fail "the server did not start"; }
step "server at $base (database $tmp/fuzz.sqlite3)"

# The binary compiles the document in: make sure it serves the one in docs/.
"$VENV/bin/python" - "$base/api/v1/openapi.json" docs/openapi.json <<'EOF' || fail "the server serves another docs/openapi.json than the one in docs/: rebuild it"
import sys, urllib.request
served = urllib.request.urlopen(sys.argv[1], timeout=10).read()
sys.exit(served != open(sys.argv[2], "rb").read())
EOF

# --- fuzzing ---------------------------------------------------------------------
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance
checks+=,response_schema_conformance,positive_data_acceptance,negative_data_rejection
checks+=,missing_required_header,unsupported_method,allow_header_conformance
seed_args=()
[ -n "${API_FUZZ_SEED:-}" ] && seed_args=(--seed "$API_FUZZ_SEED")

# No crash cache in the work tree (.schemathesis/): the report says how to reproduce instead.
printf '[cache]\nenabled = false\n' >"$tmp/schemathesis.toml"

step "schemathesis $SCHEMATHESIS_VERSION: every phase, $EXAMPLES examples per operation, ${SECONDS_BUDGET}s"
started=$(date +%s)
# Hypothesis keeps its Unicode tables in the venv rather than in .hypothesis/ here.
HYPOTHESIS_STORAGE_DIRECTORY="$VENV/hypothesis" \
SCHEMATHESIS_HOOKS=scripts/api-fuzz-hooks.py \
API_FUZZ_BASE="$base" API_FUZZ_ORIGIN="$base" API_FUZZ_NOTES="$tmp/notes" \
  timeout --kill-after=10 $((SECONDS_BUDGET + 120)) \
  "$VENV/bin/schemathesis" --config-file "$tmp/schemathesis.toml" run "$base/api/v1/openapi.json" \
  --url "$base" \
  --header "x-member-login: 1" --header "Origin: $base" \
  --checks "$checks" \
  --max-examples "$EXAMPLES" --max-time "$SECONDS_BUDGET" \
  --workers 1 --request-timeout 10 \
  --generation-database none \
  "${seed_args[@]}" \
  --no-color \
  --report junit --report-junit-path "$tmp/junit.xml"
status=$?
step "schemathesis took $(($(date +%s) - started))s and exited with $status"

if [ -s "$tmp/notes" ]; then
  step "not counted, as they hang on what no schema can say (scripts/api-fuzz-hooks.py):"
  sort "$tmp/notes" | uniq -c | sed 's/^/    /'
fi

# --- counts ----------------------------------------------------------------------
counts=$("$VENV/bin/python" - "$tmp/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
except (OSError, ET.ParseError):
    print(0, 0)
    sys.exit()
passed = failed = 0
for case in cases:
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
        print(f"[api-fuzz] failed: {case.get('name')}", file=sys.stderr)
    else:
        passed += 1
print(passed, failed)
EOF
)
read -r passed failed <<<"$counts"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "api-fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
