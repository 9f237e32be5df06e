#!/usr/bin/env bash
# Installs every tool and browser the project needs, skipping what is already there.
# Usage: scripts/setup.sh [build|test|bench|server]
#   build: what the run command needs; test: everything the tests need;
#   bench: build, plus Chromium and Lighthouse for the benchmark (scripts/bench.sh);
#   server: only PostgreSQL, for the server benchmark (scripts/bench-server.sh), which builds
#   nothing for the browser
# Safe to run again: a second run only checks versions and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-test}
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
GECKODRIVER_VERSION=0.37.1
# wasm-bindgen-cli must match the wasm-bindgen library that Cargo.lock pins, exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)

export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
ok() { printf '[setup]   ok: %s\n' "$*"; }
missing=()

need_by_hand() { missing+=("$1"); }

is_root() { [ "$(id -u)" = 0 ]; }
has_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; }
apt_updated=
apt_install() { # apt_install PACKAGE...: installs Debian packages, refreshing the index once
  step "installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  ok "installed $*"
}

# --- Rust: wasm target -------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  echo "[setup] cargo is not installed. Install Rust with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
# The wasm target and the app's build tools: every mode but the server benchmark's needs them.
if [ "$want" != server ]; then
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    ok "wasm32-unknown-unknown target"
  elif command -v rustup >/dev/null 2>&1; then
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  else
    need_by_hand "the Rust wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown)"
  fi
  # The standard library's sources: the release app is built with its own std, for size
  # (scripts/build-app.sh).
  if rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
    ok "rust-src component"
  elif command -v rustup >/dev/null 2>&1; then
    step "adding the rust-src component"
    rustup component add rust-src
  else
    need_by_hand "the Rust standard library's sources (rustup component add rust-src)"
  fi

  # --- cargo-installed tools ---------------------------------------------------
  cargo_tool() { # cargo_tool BINARY CRATE VERSION [extra cargo install args]
    local bin=$1 crate=$2 version=$3; shift 3
    if command -v "$bin" >/dev/null 2>&1 && "$bin" --version 2>/dev/null | grep -qF "$version"; then
      ok "$crate $version"
    else
      step "installing $crate $version (cargo install; several minutes on a small machine)"
      cargo install "$crate" --version "$version" "$@"
    fi
  }
  cargo_tool trunk trunk "$TRUNK_VERSION" --locked
  cargo_tool wasm-bindgen wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
  [ "$want" = test ] && cargo_tool geckodriver geckodriver "$GECKODRIVER_VERSION"

  # --- wasm-opt (binaryen from npm): trunk's release build runs it; the ------
  # post-build hook runs it and binaryen's wasm-metadce (scripts/slim-wasm.mjs)
  if command -v wasm-opt >/dev/null 2>&1 && wasm-opt --version | grep -q "version $BINARYEN_VERSION"; then
    ok "wasm-opt $BINARYEN_VERSION"
  elif command -v npm >/dev/null 2>&1; then
    step "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
    npm install --global --no-fund --no-audit "binaryen@$BINARYEN_VERSION"
  else
    need_by_hand "wasm-opt version $BINARYEN_VERSION (npm install -g binaryen@$BINARYEN_VERSION, or your distribution's binaryen)"
  fi
fi

# --- npm packages of a folder, installed from its lock file --------------------
npm_folder() { # npm_folder "MODE…" DIR FILE WHAT: `npm ci` in DIR for those modes unless FILE is there and fresh
  local modes=$1 dir=$2 file=$3 what=$4
  case " $modes " in *" $want "*) ;; *) return 0 ;; esac
  if [ -f "$dir/node_modules/$file" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    ok "$what ($dir/node_modules)"
  elif command -v npm >/dev/null 2>&1; then
    step "installing $what (npm ci in $dir/)"
    npm ci --prefix "$dir" --no-audit --no-fund
  else
    need_by_hand "Node.js 18.20 or later and npm, to install $what (then: npm ci --prefix $dir)"
  fi
}
# terser, which the app build's post-build hook minifies the JavaScript with, and acorn, which
# it reads the JavaScript with to rename the wasm's imports and exports in it.
npm_folder "build test bench" scripts terser/package.json "terser for the app build"
# axe-core, injected into pages by the end-to-end accessibility checks.
npm_folder test e2e axe-core/axe.min.js "axe-core for the accessibility checks"
# Lighthouse (with puppeteer-core and chrome-launcher), for the benchmark.
npm_folder bench bench lighthouse/package.json "Lighthouse for the benchmark"

# --- browsers and WebDriver servers (Debian packages) ------------------------
# The tests drive three engines over WebDriver; the benchmark only Chromium, over DevTools.
pkgs=()
case $want in
  test)
    pkgs=(chromium chromium-driver firefox-esr webkit2gtk-driver xvfb)
    by_hand="Chromium + chromedriver, Firefox + geckodriver, WebKitGTK's WebKitWebDriver and Xvfb from your system" ;;
  bench)
    pkgs=(chromium)
    by_hand="Chromium from your system (set CHROME_PATH to it)" ;;
esac
if [ ${#pkgs[@]} -gt 0 ]; then
  absent=()
  for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || absent+=("$p")
  done
  if [ ${#absent[@]} -eq 0 ]; then
    ok "browsers and drivers: ${pkgs[*]}"
  elif is_root && has_apt; then
    apt_install "${absent[@]}"
  else
    need_by_hand "Debian packages ${absent[*]} (sudo apt-get install ${absent[*]}), or $by_hand"
  fi
fi

# --- nginx and its brotli_static module (Debian packages) ---------------------
# The static-host test (e2e/tests/static_host.rs) serves the app from the distribution's nginx
# with the configuration deploy/render.mjs writes, .br copies included.
if [ "$want" = test ]; then
  absent=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || absent+=(nginx)
  [ -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] || absent+=(libnginx-mod-http-brotli-static)
  if [ ${#absent[@]} -eq 0 ]; then
    ok "nginx with the brotli_static module"
  elif is_root && has_apt; then
    apt_install "${absent[@]}"
  else
    need_by_hand "the Debian packages ${absent[*]} (sudo apt-get install ${absent[*]}), or nginx with the brotli_static module in /usr/lib/nginx/modules"
  fi
fi

# --- OpenSSL headers and pkg-config (Debian packages) --------------------------
# The server's WebAuthn library (passkeys, webauthn-rs) links OpenSSL: every mode builds the
# server (the run command, the tests, the benchmarks).
absent=()
command -v pkg-config >/dev/null 2>&1 || absent+=(pkg-config)
if ! { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openssl; }; then
  dpkg -s libssl-dev >/dev/null 2>&1 || absent+=(libssl-dev)
fi
if [ ${#absent[@]} -eq 0 ]; then
  ok "OpenSSL headers and pkg-config"
elif is_root && has_apt; then
  apt_install "${absent[@]}"
else
  need_by_hand "the Debian packages ${absent[*]} (sudo apt-get install ${absent[*]}), or OpenSSL's headers and pkg-config from your system"
fi

# --- PostgreSQL server (Debian package) --------------------------------------
# The tests (and the benchmarks) run a throwaway cluster with it: see scripts/postgres.sh.
if [ "$want" = test ] || [ "$want" = bench ] || [ "$want" = server ]; then
  if command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    ok "PostgreSQL server (initdb)"
  elif is_root && has_apt; then
    apt_install postgresql
  else
    need_by_hand "the Debian package postgresql (sudo apt-get install postgresql), or PostgreSQL's server programs (initdb, pg_ctl, postgres) from your system"
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] Could not install these here; install them by hand, then run this again:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  exit 1
fi
step "all tools present"
