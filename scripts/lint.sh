#!/usr/bin/env bash
# Static checks beside the tests (not part of scripts/test.sh: the cycle check needs a heavy
# tool): formatting, clippy with warnings as errors, no cycles between the library's modules,
# and no function over 80 lines outside tests. Every check runs; the last lines name the ones
# that failed, and the exit status is non-zero when any did.
#
# The cycle check uses cargo-modules (`cargo install --locked cargo-modules`; on Rust 1.95,
# `--version 0.27.0`, later versions need a newer Rust) and python3.
set -u
cd "$(dirname "$0")/.."

failed=()

run() {
    local name=$1
    shift
    echo "== $name: $*"
    if ! "$@"; then
        failed+=("$name")
    fi
}

# Functions longer than clippy.toml's too-many-lines-threshold (80; blank and comment lines
# are not counted), outside tests: one line each, `path:line (N lines)`.
long_functions() {
    local out
    out=$(cargo clippy --quiet --lib --bins --message-format=short -- \
        -A clippy::all -W clippy::too_many_lines 2>&1) || {
        echo "$out"
        return 1
    }
    local found
    found=$(echo "$out" | sed -n 's/^\(src\/[^:]*:[0-9]*\):[0-9]*: warning: this function has too many lines (\([0-9]*\)\/[0-9]*)$/\1 (\2 lines)/p')
    if [ -n "$found" ]; then
        echo "functions over 80 lines:"
        echo "$found"
        return 1
    fi
    echo "no function over 80 lines"
}

# Cycles between the library's modules: cargo-modules' graph lifted to modules, plus the paths
# written in function bodies (see scripts/module_cycles.py for why not `--acyclic` itself).
module_cycles() {
    if ! cargo modules --version >/dev/null 2>&1; then
        echo "cargo-modules is not installed: cargo install --locked cargo-modules"
        return 1
    fi
    local graph
    graph=$(cargo modules dependencies --lib --no-externs --no-sysroot) || return 1
    echo "$graph" | python3 scripts/module_cycles.py
}

run fmt cargo fmt --check
# The meta-command files are declared inside the `registry!` macro, where cargo fmt does not
# reach them.
run fmt-commands rustfmt --check --edition 2021 src/meta/commands/*.rs
run clippy cargo clippy --quiet --all-targets -- -D warnings
run cycles module_cycles
run long-functions long_functions

if [ ${#failed[@]} -gt 0 ]; then
    echo "lint failed: ${failed[*]}"
    exit 1
fi
echo "lint passed"
