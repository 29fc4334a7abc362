#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine (the pinned Claude Code CLI, in the
# git-ignored .cache folder), builds, and runs every test: unit, proxy and end-to-end.
# Usage: scripts/test.sh [--slow]
set -euo pipefail
cd "$(dirname "$0")/.."
# --slow also runs the slow tests: the soak test (bounded, a few minutes) and a fresh clone
# built and run as a newcomer would.
slow=0
for arg in "$@"; do
  case "$arg" in
    --slow) slow=1 ;;
    *) echo "test.sh: unknown option $arg (the only one is --slow)" >&2; exit 2 ;;
  esac
done

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

# Every test binary runs even when an earlier one fails (--no-fail-fast); cargo's own output is
# shown as it comes, and a last line names the binaries that failed.
log=$(mktemp "${TMPDIR:-/tmp}/ccx-test-log.XXXXXX")
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --no-fail-fast -- --test-threads="${CCX_TEST_THREADS:-2}" 2>&1 | tee "$log" || status=$?
if [ "$slow" = 1 ]; then
  # The soak test (ignored by default: it takes minutes).
  cargo test --locked --no-fail-fast --test soak -- --ignored 2>&1 | tee -a "$log" || status=$?
  # The fresh-machine test: clone, scripts/run.sh, Claude's prompt in a scratch project.
  cargo test --locked --no-fail-fast --test fresh_machine -- --ignored 2>&1 | tee -a "$log" || status=$?
fi

# Pair each "Running <binary>" line with the result line that follows it.
failed=$(awk '
  /^ *Running / { current = ($2 == "unittests") ? $2 " " $3 : $2 }
  /^ *Doc-tests / { current = "doc-tests " $2 }
  /^test result: FAILED/ { print "  " current }
' "$log")
if [ "$status" != 0 ] || [ -n "$failed" ]; then
  echo
  if [ -n "$failed" ]; then
    echo "test.sh: these test binaries failed:"
    echo "$failed"
  else
    echo "test.sh: cargo test failed (exit status $status) before any test result; see above"
  fi
  exit 1
fi
echo
echo "test.sh: every test binary passed"
