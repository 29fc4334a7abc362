#!/usr/bin/env bash
# Builds ccx (release), puts `ccx` on PATH, and runs it with the given arguments in the
# directory you called this from: `path/to/ccx/scripts/run.sh` starts Claude Code, recorded,
# in your own project. Uses `claude` from PATH (or $CCX_CLAUDE); when there is none, installs
# the pinned Claude Code CLI into the ccx repository's .cache folder and tells ccx where it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
say() { echo "run.sh: $*" >&2; }

command -v cargo >/dev/null || { say "cargo is missing: install Rust (https://rustup.rs)"; exit 1; }
say "building ccx (the first run fetches crates and takes a few minutes)…"
cargo build --locked --release --manifest-path "$root/Cargo.toml"
built="$root/target/release/ccx"

# A `ccx` on PATH: a link in cargo's bin folder (on PATH wherever cargo is), else ~/.local/bin.
cargo_bin="$(dirname "$(command -v cargo)")"
bin_dir="$HOME/.local/bin"
case "$cargo_bin" in
  "${CARGO_HOME:-$HOME/.cargo}/bin") [ -w "$cargo_bin" ] && bin_dir="$cargo_bin" ;;
esac
mkdir -p "$bin_dir"
ln -sf "$built" "$bin_dir/ccx"
say "linked $bin_dir/ccx -> $built"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) say "note: $bin_dir is not on your PATH; add it to use \`ccx\` from any shell:"
     say "  echo 'export PATH=\"$bin_dir:\$PATH\"' >> ~/.bashrc" ;;
esac

if [ -z "${CCX_CLAUDE:-}" ] && ! command -v claude >/dev/null; then
  claude="$("$root/scripts/install-claude.sh")"
  "$built" __remember-claude "$claude" >&2
fi
exec "$built" "$@"
