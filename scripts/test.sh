#!/usr/bin/env bash
# Runs every test: installs what is missing, starts a throwaway PostgreSQL cluster
# (scripts/postgres.sh; stopped and removed on exit), checks format and lints, then runs the
# native tests (the server's on SQLite, and its HTTP suite again on PostgreSQL), the app's
# component tests in headless Chromium and Firefox, a schema fuzzer (schemathesis) against the
# server and its OpenAPI document, and the end-to-end tests in Chromium, Firefox and WebKitGTK
# against the real server. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh test || { echo "0 passed, 1 failed"; exit 1; }
# Exports MEMBER_LOGIN_TEST_POSTGRES (a superuser URL) for the server's tests.
source scripts/postgres.sh
pg_start || { echo "0 passed, 1 failed"; exit 1; }

logs=$(mktemp -d)
passed=0
failed=0
broken=()

# suite NAME COMMAND...: runs one suite, shows its output, and adds up its test counts. A suite
# that fails without a failed test (it did not build, say) counts as one failure.
suite() {
  local name=$1; shift
  printf '\n\033[1m== %s\033[0m\n' "$name"
  "$@" 2>&1 | tee "$logs/$name.log"
  local status=${PIPESTATUS[0]}
  local p f
  # Counts cargo test's "test result:" lines; a suite that prints none is counted by its plain
  # "N passed, M failed" lines instead ("NAME: " may stand before it), so none counts twice.
  read -r p f < <(awk '/^test result: / { r = 1; for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
                       /^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/ {
                         line = $0; sub(/^[A-Za-z0-9_-]+: /, "", line); split(line, w, " "); pp += w[1]; ff += w[3] }
                       END { if (!r) { p = pp; f = ff } print p + 0, f + 0 }' "$logs/$name.log")
  if [ "$status" -ne 0 ]; then
    broken+=("$name")
    [ "$f" -eq 0 ] && f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
}

suite format cargo fmt --all -- --check
suite lint-native cargo clippy -p member-login-api -p member-login-server -p member-login-e2e --all-targets -- -D warnings
suite lint-app cargo clippy -p member-login --target wasm32-unknown-unknown --all-targets -- -D warnings
suite native cargo test -p member-login-api -p member-login-server
# The server's HTTP rule suite again, with PostgreSQL as the store.
suite native-postgres env MEMBER_LOGIN_TEST_BACKEND=postgres cargo test -p member-login-server --tests
suite app-logic cargo test -p member-login --lib
suite app-build bash scripts/build-app.sh
# Download sizes are deterministic, so they are checked here (timings only in scripts/bench.sh).
suite app-size node bench/sizes.mjs dist --ceiling
# wasm-bindgen-test-runner picks the browser from whichever driver variable is set.
suite components-chromium env -u GECKODRIVER CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test -p member-login --target wasm32-unknown-unknown
suite components-firefox env -u CHROMEDRIVER GECKODRIVER="$(command -v geckodriver)" \
  cargo test -p member-login --target wasm32-unknown-unknown
suite server-build cargo build -p member-login-server
# Schemathesis (PyPI) fuzzes the built server against docs/openapi.json (scripts/api-fuzz.sh).
suite api-fuzz bash scripts/api-fuzz.sh
suite end-to-end cargo test -p member-login-e2e -- --test-threads=1
pg_stop

echo
[ ${#broken[@]} -gt 0 ] && echo "Failed suites: ${broken[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
