#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine (the pinned Claude Code CLI, in the
# git-ignored .cache folder), builds, and runs every test: unit, proxy and end-to-end.
set -euo pipefail
cd "$(dirname "$0")/.."
# --slow also runs the slow tests (a fresh clone built and run as a newcomer would).
slow=0
if [ "${1:-}" = "--slow" ]; then slow=1; shift; fi

command -v cargo >/dev/null || { echo "test.sh: cargo is missing: install Rust (rustup)" >&2; exit 1; }
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: npm is missing: installing Node.js and npm with apt-get (nodejs npm)…" >&2
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  fi
  command -v npm >/dev/null || { echo "test.sh: install Node.js and npm, then run again" >&2; exit 1; }
fi

# The HTML export is checked in a real headless browser; without one that check is skipped.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: chromium is missing: installing it with apt-get (chromium) for the HTML export check…" >&2
    { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
      || echo "test.sh: could not install chromium: the headless-browser check will be skipped" >&2
  else
    echo "test.sh: chromium is missing: the headless-browser check of the HTML export will be skipped" >&2
  fi
fi

scripts/install-claude.sh >/dev/null
echo "test.sh: building (the first build fetches crates and takes a few minutes)…" >&2
cargo build --locked --all-targets
cargo test --locked -- --test-threads="${CCX_TEST_THREADS:-2}"
if [ "$slow" = 1 ]; then
  cargo test --locked --test fresh_machine -- --ignored
fi
