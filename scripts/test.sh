#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine (the pinned Claude Code CLI, in the
# git-ignored .cache folder), builds, and runs every test: unit, proxy and end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "test.sh: cargo is missing: install Rust (rustup)" >&2; exit 1; }
if ! command -v npm >/dev/null; then
  echo "test.sh: npm is missing; installing Node.js and npm from the system packages" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; fi
  command -v npm >/dev/null || { echo "test.sh: install Node.js and npm, then run again" >&2; exit 1; }
fi

scripts/install-claude.sh >/dev/null
cargo build --locked --all-targets
cargo test --locked -- --test-threads="${CCX_TEST_THREADS:-2}"
