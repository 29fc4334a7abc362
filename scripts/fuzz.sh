#!/usr/bin/env bash
# Runs every ccx fuzz target for a bounded time and reports crashes.
#
#   scripts/fuzz.sh [TARGET...]      FUZZ_SECONDS=60 per target (default 60)
#
# With cargo-fuzz installed (`cargo install cargo-fuzz`), each target runs under libFuzzer for
# FUZZ_SECONDS (-max_total_time). cargo-fuzz needs a nightly compiler (it passes -Z flags for
# the sanitizer and coverage); this machine has only the stable toolchain, so the script sets
# RUSTC_BOOTSTRAP=1, which lets stable rustc accept those flags. The address sanitizer is kept
# off (-s none): it needs a nightly-built std. Inputs gathered go to fuzz/corpus/<target>/ (not
# committed), seeded from fuzz/seeds/<target>/; a crash input is copied to
# fuzz/regressions/<target>/ so tests/fuzz_regressions.rs replays it from then on.
#
# Without cargo-fuzz (or if it cannot build here), the script falls back to replaying
# regressions, seeds and any corpus through the same checks with plain `cargo test --test
# fuzz_regressions` (no new inputs are generated then).
#
# Exit code: 0 when no target crashed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(hook_payload transcript key_filter meta_parser)
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

replay() {
    echo "fuzz: replaying fuzz/{regressions,seeds,corpus} with cargo test (no cargo-fuzz)"
    cargo test --test fuzz_regressions
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is not installed (cargo install cargo-fuzz)"
    replay
    exit $?
fi

export RUSTC_BOOTSTRAP=1
# The fuzz crate builds into its own directory: its flags differ from the main build's.
export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
ok=1
for t in "${TARGETS[@]}"; do
    cargo fuzz build -s none "$t" >>/tmp/ccx-fuzz-build.$$.log 2>&1 || ok=0
done
if [ $ok = 0 ]; then
    echo "fuzz: cargo fuzz cannot build here; see /tmp/ccx-fuzz-build.$$.log"
    tail -20 /tmp/ccx-fuzz-build.$$.log
    replay
    exit $?
fi
rm -f /tmp/ccx-fuzz-build.$$.log

status=0
for t in "${TARGETS[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/regressions/$t"
    seeds=()
    [ -d "fuzz/seeds/$t" ] && seeds+=("fuzz/seeds/$t")
    [ -n "$(ls -A "fuzz/regressions/$t" 2>/dev/null)" ] && seeds+=("fuzz/regressions/$t")
    echo "fuzz: $t for ${SECONDS_PER_TARGET}s"
    log="fuzz/artifacts/$t/last-run.log"
    if cargo fuzz run -s none "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$log" 2>&1; then
        grep -E "stat::number_of_executed_units|stat::new_units_added" "$log" | sed "s/^/fuzz: $t: /"
        echo "fuzz: $t: no crash"
    else
        status=1
        echo "fuzz: $t: CRASH (log: $log)"
        grep -E "panicked|ERROR|SUMMARY" "$log" | head -5 | sed "s/^/fuzz: $t: /"
        for crash in fuzz/artifacts/"$t"/crash-* fuzz/artifacts/"$t"/oom-* fuzz/artifacts/"$t"/timeout-*; do
            [ -f "$crash" ] || continue
            cp "$crash" "fuzz/regressions/$t/"
            echo "fuzz: $t: kept $(basename "$crash") in fuzz/regressions/$t/"
        done
    fi
done
exit $status
