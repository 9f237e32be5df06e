#!/usr/bin/env bash
# Runs the product: installs what is missing, builds the app, and starts the reference login API
# server with the demo Organization, serving app and API on one local URL.
#   MEMBER_LOGIN_LISTEN=127.0.0.1:8080   address to serve on (open http://localhost:8080/:
#                                        passkeys work at localhost, not at the IP address)
#   MEMBER_LOGIN_DATA=data/member-login.sqlite3   the SQLite file (kept between runs)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh build
echo "[run] building the app (scripts/build-app.sh: the login and the account pages)"
bash scripts/build-app.sh
echo "[run] building the reference server"
cargo build --quiet -p member-login-server
exec target/debug/member-login-server serve --demo --dev --dist dist
