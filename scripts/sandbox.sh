#!/usr/bin/env bash
# Hand testing offline: starts the tests' stand-in Messages API with a private HOME and project
# (as the end-to-end tests do) and opens ccx in a tmux session on it.
#   scripts/sandbox.sh [NAME] [-- CCX ARGS]   -> tmux session NAME (default ccx-sandbox)
# Drive it with `tmux send-keys -t NAME ...` and read it with `tmux capture-pane -p -t NAME`;
# `source "$dir/env.sh"` (printed below) gives a shell the same environment for `ccx log`.
# `scripts/sandbox.sh --stop NAME` ends it and removes its folder.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-ccx-sandbox}"
if [ "$name" = "--stop" ]; then
  name="${2:-ccx-sandbox}"
  dir="${TMPDIR:-/tmp}/ccx-sandbox-$name"
  tmux kill-session -t "$name" 2>/dev/null || true
  touch "$dir/stop" 2>/dev/null || true
  sleep 1
  rm -rf "$dir"
  exit 0
fi
shift || true
[ "${1:-}" = "--" ] && shift
command -v tmux >/dev/null || { echo "sandbox.sh: tmux is missing" >&2; exit 1; }
scripts/install-claude.sh >/dev/null
cargo build --locked --quiet --bin ccx --test sandbox
dir="${TMPDIR:-/tmp}/ccx-sandbox-$name"
rm -rf "$dir"; mkdir -p "$dir"
CCX_SANDBOX_DIR="$dir" nohup cargo test --locked --quiet --test sandbox -- --ignored \
  >"$dir/standin.log" 2>&1 &
for _ in $(seq 1 600); do [ -f "$dir/env.sh" ] && break; sleep 0.1; done
[ -f "$dir/env.sh" ] || { echo "sandbox.sh: the stand-in did not start; see $dir/standin.log" >&2; exit 1; }
ccx="$(pwd)/target/debug/ccx"
tmux kill-session -t "$name" 2>/dev/null || true
tmux new-session -d -s "$name" -x 120 -y 40 \
  "source '$dir/env.sh'; cd \"\$CCX_SANDBOX_PROJECT\"; export PATH='$(dirname "$ccx")':\$PATH; ccx $*; echo \"[ccx exited \$?]\"; sleep 3600"
echo "tmux session $name; environment: source $dir/env.sh; stop: scripts/sandbox.sh --stop $name"
