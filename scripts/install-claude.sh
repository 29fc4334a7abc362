#!/usr/bin/env bash
# Installs the pinned Claude Code CLI into .cache/claude (git-ignored) when it is missing,
# and prints the path of its executable.
set -euo pipefail
CLAUDE_CODE_VERSION="${CLAUDE_CODE_VERSION:-2.1.330}"
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/.cache/claude/$CLAUDE_CODE_VERSION"
bin="$prefix/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
if [ ! -x "$bin" ]; then
  echo "installing Claude Code $CLAUDE_CODE_VERSION into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >&2
fi
[ -x "$bin" ] || { echo "Claude Code install failed: $bin missing" >&2; exit 1; }
echo "$bin"
