#!/usr/bin/env bash
# The effects journal's cost, beside `git add -A && git write-tree` on the same tree. Run by
# scripts/bench.sh (full and quick runs), or alone:
#   scripts/bench-effects.sh [CCX_BINARY]     # default: target/release/ccx, else target/debug/ccx
# It writes a Markdown section to stdout and, alone, splices it into docs/performance.md between
# the `effects:begin` / `effects:end` markers (BENCH_OUT=- for none).
#
# What it measures: a project of BENCH_EFFECTS_FILES files (default 5000, in 50 folders, about
# 1.2 KB each) whose side repository is warm (one snapshot taken first). Each of
# BENCH_EFFECTS_CALLS calls (default 100) is what Claude Code does around a tool call: run
# `ccx __effects` with a PreToolUse payload, change BENCH_EFFECTS_CHANGED files (default 10),
# run it with the PostToolUse payload. Timed: each hook process from start to exit (bash's
# $EPOCHREALTIME, no extra process), and the two together. Anchor, on a copy of the tree in an
# ordinary repository with the same changes: `git add -A && git write-tree`. Growth: the bytes
# of the files of the side git directory (objects, refs, config: every file's size, folders
# not counted) after each call minus before, beside the zlib-compressed size of the changed
# files.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
CCX="${1:-}"
if [ -z "$CCX" ]; then
  for c in "$root/target/release/ccx" "$root/target/debug/ccx"; do
    [ -x "$c" ] && { CCX="$c"; break; }
  done
fi
[ -x "${CCX:-}" ] || { echo "bench-effects.sh: no ccx binary (build one first)" >&2; exit 1; }
FILES="${BENCH_EFFECTS_FILES:-5000}"
CALLS="${BENCH_EFFECTS_CALLS:-100}"
CHANGED="${BENCH_EFFECTS_CHANGED:-10}"
alone="${BENCH_EFFECTS_ALONE:-1}"
OUT="${BENCH_OUT:-$root/docs/performance.md}"
command -v python3 >/dev/null || { echo "bench-effects.sh: python3 is missing (for zlib sizes)" >&2; exit 1; }

work="$(mktemp -d /tmp/ccxe.XXXXXX)"
trap '[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
project="$work/project"; anchor="$work/anchor"; data="$work/data"
mkdir -p "$project" "$data" "$work/run"
chmod 700 "$work/run"

echo "bench-effects.sh: writing $FILES files..." >&2
awk -v n="$FILES" -v dir="$project" 'BEGIN {
  for (i = 0; i < n; i++) {
    d = sprintf("%s/src%02d", dir, i % 50); if (i < 50) system("mkdir -p " d)
    f = sprintf("%s/file%05d.rs", d, i)
    for (l = 0; l < 30; l++) printf "fn item_%d_%d() -> u32 { %d * %d + 17 } // line %d\n", i, l, i, l, l > f
    close(f)
  }
}'
printf 'target/\n*.log\n' >"$project/.gitignore"
cp -a "$project" "$anchor"
git -C "$anchor" init -q
git -C "$anchor" add -A
GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b \
  git -C "$anchor" commit -q -m base

export CCX_DATA_DIR="$data" XDG_RUNTIME_DIR="$work/run" CLAUDE_PROJECT_DIR="$project"
payload() { # event id
  printf '{"session_id":"bench","prompt_id":"p","hook_event_name":"%s","tool_name":"Bash","tool_use_id":"%s","tool_input":{"command":"edit"},"cwd":"%s"}' "$1" "$2" "$project"
}
hook() { "$CCX" __effects <<<"$(payload "$1" "$2")"; }
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", (b - a) * 1000}'; }
git_bytes() { find "$1" -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

echo "bench-effects.sh: first snapshot (cold side repository)..." >&2
t0=$EPOCHREALTIME; "$CCX" __effects --warm "$project"; cold_ms=$(ms_since "$t0")
hook PreToolUse warm; hook PostToolUse warm
side="$(find "$data/effects" -mindepth 1 -maxdepth 1 -type d | head -1)"
[ -d "$side/git/objects" ] || { echo "bench-effects.sh: no side repository made" >&2; exit 1; }
cold_bytes=$(git_bytes "$side/git")
"$CCX" __effects --maintain "$project"
"$CCX" __effects --maintain "$project" # a second pass packs what the first left loose
packed_base=$(git_bytes "$side/git")
echo "bench-effects.sh: packed base $packed_base (cold $cold_bytes); $(GIT_DIR=$side/git git count-objects -v | tr "\n" " ")" >&2

pre=(); post=(); both=(); anchor_ms=(); growth=(); compressed=()
echo "bench-effects.sh: $CALLS calls changing $CHANGED files each..." >&2
for ((c = 1; c <= CALLS; c++)); do
  files=()
  for ((k = 0; k < CHANGED; k++)); do
    i=$(( (c * 7919 + k * 104729) % FILES ))
    files+=("$(printf 'src%02d/file%05d.rs' $((i % 50)) "$i")")
  done
  before=$(git_bytes "$side/git")
  t0=$EPOCHREALTIME; hook PreToolUse "call$c"; a=$(ms_since "$t0")
  for f in "${files[@]}"; do
    printf 'fn changed_%d() -> u32 { %d } // call %d\n' "$c" "$RANDOM" "$c" >>"$project/$f"
    cp "$project/$f" "$anchor/$f"
  done
  t0=$EPOCHREALTIME; hook PostToolUse "call$c"; b=$(ms_since "$t0")
  # The post hook hands its snapshot to a background process holding the project's lock:
  # wait for it (untimed), so the next call and the growth see it done.
  flock "$side/lock" true
  after=$(git_bytes "$side/git")
  t0=$EPOCHREALTIME; (cd "$anchor" && git add -A && git write-tree >/dev/null); n=$(ms_since "$t0")
  pre+=("$a"); post+=("$b"); both+=("$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a + b}')")
  anchor_ms+=("$n"); growth+=($((after - before)))
  compressed+=("$(cd "$project" && python3 -c 'import sys, zlib
print(sum(len(zlib.compress(b"blob %d\0" % len(d) + d)) for d in (open(f, "rb").read() for f in sys.argv[1:])))' "${files[@]}")")
done
# Wait for a packing the hooks started, then pack once more: what the calls cost once packed.
for _ in $(seq 1 600); do
  flock -n "$side/maintain.lock" true 2>/dev/null && break
  sleep 0.1
done
t0=$EPOCHREALTIME; "$CCX" __effects --maintain "$project"; pack_ms=$(ms_since "$t0")
"$CCX" __effects --maintain "$project"
final_bytes=$(git_bytes "$side/git")
echo "bench-effects.sh: packed final $final_bytes; $(GIT_DIR=$side/git git count-objects -v | tr "\n" " ")" >&2
packed_growth=$(( (final_bytes - packed_base) / CALLS ))
journal_bytes=$(wc -c <"$side/journal.jsonl")
# How long each post snapshot took in the background process that finished it (its line's
# `millis`, process start not included).
mapfile -t background < <(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") == "post":
        print(r.get("millis", 0))' "$side/journal.jsonl" | tail -n "$CALLS")
not_snapshotted=$(grep -c 'not snapshotted' "$side/journal.jsonl" || true)

pct() { # percentile values...
  local p=$1; shift
  printf '%s\n' "$@" | sort -g | awk -v p="$p" '{v[NR]=$1} END {i = int((NR - 1) * p / 100 + 0.5) + 1; print v[i]}'
}
mean() { printf '%s\n' "$@" | awk '{s+=$1} END {printf "%.0f", s / NR}'; }
verdict() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {ok = (op == "<") ? a < b : a <= b; print ok ? "met" : "**not met**"}'; }

both50=$(pct 50 "${both[@]}"); both99=$(pct 99 "${both[@]}")
growth_mean=$(mean "${growth[@]}"); comp_mean=$(mean "${compressed[@]}")
growth50=$(pct 50 "${growth[@]}"); comp50=$(pct 50 "${compressed[@]}")
machine="$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
section=$(cat <<MD
<!-- effects:begin (written by scripts/bench-effects.sh) -->
## Effects journal: the two snapshots of one tool call

Measured by \`scripts/bench-effects.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') with \`${CCX#$root/}\`
($machine). A project of $FILES files (50 folders, about 1.2 KB each, a \`.gitignore\`), its side
repository warm; $CALLS tool calls, each changing $CHANGED files between the \`PreToolUse\` and
the \`PostToolUse\` run of \`ccx __effects\` (each timed from start to exit, process start
included). Anchor: \`git add -A && git write-tree\` in an ordinary repository holding the same
tree, after the same changes.

| figure | p50 | p99 | target | |
| --- | --- | --- | --- | --- |
| both snapshots of one call (pre + post hook) | $both50 ms | $both99 ms | < 50 ms p50, < 150 ms p99 | $(verdict "$both50" '<' 50) / $(verdict "$both99" '<' 150) |
| pre hook alone | $(pct 50 "${pre[@]}") ms | $(pct 99 "${pre[@]}") ms | | |
| post hook alone (hands its snapshot to a background process, then exits) | $(pct 50 "${post[@]}") ms | $(pct 99 "${post[@]}") ms | | |
| the post snapshot in that background process (its journal line's \`millis\`) | $(pct 50 "${background[@]}") ms | $(pct 99 "${background[@]}") ms | | |
| anchor: \`git add -A && git write-tree\` (once) | $(pct 50 "${anchor_ms[@]}") ms | $(pct 99 "${anchor_ms[@]}") ms | | |

| side repository growth per call | p50 | mean | |
| --- | --- | --- | --- |
| written by the two hooks (a small pack per snapshot, no deltas; bytes of the side git directory's files) | $growth50 B | $growth_mean B | |
| once packed (\`git repack\`, which the hook starts in the background every 64 KB of journal) | | $packed_growth B | $(verdict "$packed_growth" '<=' "$comp_mean") |
| the changed files, zlib-compressed (the target) | $comp50 B | $comp_mean B | |

Before packing, a call costs the blobs of its changed files plus the new trees of their folders
and of the root ($CHANGED changed files touch up to $CHANGED folders of 100 entries each) and a
commit; packing stores those trees (and the blobs) as deltas. The last packing took $pack_ms ms. The
first snapshot of the project (cold, every file hashed: \`ccx __effects --warm\`, which a hook
starts in the background when its own snapshot runs out of time) took $cold_ms ms and $cold_bytes bytes of
objects. The journal grew by $journal_bytes bytes over the $((CALLS + 1)) calls;
$not_snapshotted hook runs went past the budget.
<!-- effects:end -->
MD
)
printf '%s\n' "$section"
if [ "$alone" = 1 ] && [ "$OUT" != "-" ]; then
  if grep -q 'effects:begin' "$OUT" 2>/dev/null; then
    python3 - "$OUT" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"<!-- effects:begin.*?<!-- effects:end -->", lambda m: section, text, flags=re.S)
open(path, "w").write(text)
PY
  else
    printf '\n%s\n' "$section" >>"$OUT"
  fi
  echo "bench-effects.sh: wrote the section into $OUT" >&2
fi
