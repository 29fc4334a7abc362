#!/usr/bin/env bash
# Builds ccx (release) and runs it with the given arguments, in the current directory.
# Uses `claude` from PATH (or $CCX_CLAUDE); installs the pinned Claude Code CLI into the
# project's .cache folder when there is none.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --locked --release --quiet --manifest-path "$root/Cargo.toml"
if [ -z "${CCX_CLAUDE:-}" ] && ! command -v claude >/dev/null; then
  CCX_CLAUDE="$("$root/scripts/install-claude.sh")"
  export CCX_CLAUDE
fi
exec "$root/target/release/ccx" "$@"
