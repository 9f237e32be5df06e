#!/usr/bin/env bash
# Builds the app for release into dist/: two pages, two trunk builds.
#   dist/          the login (index.html: landing → done)
#   dist/account/  the account screens (account/index.html: update password, enable MFA)
# HTML and CSS are minified by trunk; the post-build hook (scripts/post-build.mjs) slims each wasm
# and its JavaScript together and minifies the JavaScript.
# Each is built with its own standard library, compiled for size with the `immediate-abort`
# panic strategy (a panic stops the app at once, with no message machinery). That needs
# nightly features of the stable toolchain: RUSTC_BOOTSTRAP=1 turns them on for this build only
# (docs/PERFORMANCE.md says why), and the rust-src component (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
# erase_components: Leptos's type erasure of components, fewer monomorphised views (measured
# in docs/PERFORMANCE.md, with the step transition it costs).
export RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort --cfg erase_components"

# trunk runs cargo offline (Trunk.toml), so everything it compiles is downloaded first: the
# app's dependencies for every platform (build scripts and macros run on this machine), and
# for the wasm target the standard library's own (its Cargo.lock in rust-src), which only a
# fetch with build-std on names.
cargo fetch --quiet
cargo fetch --target wasm32-unknown-unknown --quiet

# The login first: trunk replaces dist/ as a whole, the account build only dist/account/.
trunk build index.html --release --minify
trunk build account/index.html --release --minify --dist dist/account --public-url /account/
