#!/usr/bin/env bash
# ccx's performance record: builds what it needs (release), measures every figure beside an
# anchor in the same run, prints a table and writes docs/performance.md.
#
#   scripts/bench.sh                 # full run (~6 minutes of measuring on 2 cores, plus the build)
#   BENCH_QUICK=1 scripts/bench.sh   # quick run (< 2 minutes once built)
#
# Sizes (environment; defaults full / quick):
#   BENCH_MB=200/50            throughput file size, MB (10^6 bytes) of 80-column text
#   BENCH_RUNS=3/3             alternated runs per throughput contender
#   BENCH_KEYS=2000/1000       keystroke samples per contender
#   BENCH_KEYFLOOD_ROUNDS=10/4   rounds of the keystroke round trip under a flood
#   BENCH_KEYFLOOD_SAMPLES=500/250  samples per contender in each of those rounds
#   BENCH_COLON=200/50         `:` samples during the flood (and as many at rest)
#   BENCH_TURNS=100000/10000   turns in the store before measuring
#   BENCH_STORE_SAMPLES=200/100  finish_turn samples
#   BENCH_HOOK_SAMPLES=200/50  hook samples
#   BENCH_TRANSCRIPT_TURNS=500/500  turns already in the session's transcript for the hook path
#   BENCH_CONFIRM_LINES=10000/10000  lines already in the transcript the recorder confirms from
#   BENCH_CONFIRM_SAMPLES=500/200    turns confirmed and finished
#   BENCH_FORK_TURNS=1000/1000       turns of the long branch forked after its last turn
#   BENCH_FORK_LINES=4/4             transcript lines per turn of that branch
#   BENCH_FORK_LINE_BYTES=1000/1000  bytes per transcript line (about)
#   BENCH_FORK_SAMPLES=10/5          forks timed (owner, client, anchor each)
#   BENCH_SEARCH_RUNS=5/3            runs of each `ccx search` and of its anchor
#   BENCH_IMPORT_MB=100/20           size of the transcript `ccx import` reads, MB
#   BENCH_IMPORT_RUNS=3/1            imports timed (each into a fresh data dir), median
#   BENCH_IMPORT_LIMIT=600/300       seconds one import may take before it is stopped
#   BENCH_EXPORT_TURNS=10000/10000   turns of the exported branch
#   BENCH_EXPORT_RUNS=5/3            runs of each export and of its anchors
#   BENCH_ARCHIVE_FILES=1000/1000    Claude Code transcripts `ccx archive` keeps (50 a project)
#   BENCH_ARCHIVE_RUNS=5/5           runs of the second `ccx archive` (nothing new) and its anchor
#   BENCH_ONLY=store,search,...      only these sections (names in the `want` calls below): the
#                                    figures are printed and no report is written
#   BENCH_EFFECTS_CALLS=100/30       tool calls of the effects journal step (scripts/bench-effects.sh)
#   BENCH_OUT=docs/performance.md   where the report goes ("-" for none)
#   BENCH_DIR=<new temp dir>   scratch space (about 2 x BENCH_MB + store); removed at the end
#
# Every step runs under `timeout`; only processes this script starts are ever signalled.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

quick="${BENCH_QUICK:-0}"
mode="full"
[ "$quick" = 1 ] && mode="quick, BENCH_QUICK=1"
# The sizes that BENCH_QUICK=1 makes smaller: NAME, its quick value, its full value; BENCH_NAME
# overrides both.
while read -r name quick_value full_value; do
  default=$full_value
  [ "$quick" = 1 ] && default=$quick_value
  override="BENCH_$name"
  declare "$name=${!override:-$default}"
done <<'SIZES'
MB 50 200
RUNS 3 3
KEYS 1000 2000
COLON 50 200
TURNS 10000 100000
STORE_SAMPLES 100 200
HOOK_SAMPLES 50 200
TRANSCRIPT_TURNS 500 500
FORK_SAMPLES 5 10
SEARCH_RUNS 3 5
IMPORT_MB 20 100
IMPORT_LIMIT 300 600
EXPORT_RUNS 3 5
SIZES
FORK_TURNS="${BENCH_FORK_TURNS:-1000}"; FORK_LINES="${BENCH_FORK_LINES:-4}"
FORK_LINE_BYTES="${BENCH_FORK_LINE_BYTES:-1000}"; IMPORT_RUNS="${BENCH_IMPORT_RUNS:-3}"
EXPORT_TURNS="${BENCH_EXPORT_TURNS:-10000}"
if [ "$quick" = 1 ]; then KEYFLOOD_ROUNDS="${BENCH_KEYFLOOD_ROUNDS:-4}"; KEYFLOOD_SAMPLES="${BENCH_KEYFLOOD_SAMPLES:-250}"
else KEYFLOOD_ROUNDS="${BENCH_KEYFLOOD_ROUNDS:-10}"; KEYFLOOD_SAMPLES="${BENCH_KEYFLOOD_SAMPLES:-500}"; fi
ARCHIVE_FILES="${BENCH_ARCHIVE_FILES:-1000}"; ARCHIVE_RUNS="${BENCH_ARCHIVE_RUNS:-5}"
OUT="${BENCH_OUT:-docs/performance.md}"

for tool in script timeout awk; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing" >&2; exit 1; }
done

# ---- build ------------------------------------------------------------------------------
echo "bench.sh: building (release)..." >&2
cargo build --release --quiet --bin ccx
bench_json="$(cargo bench --quiet --bench ccx_bench --no-run --message-format=json)" || { echo "bench.sh: cannot build the bench driver" >&2; exit 1; }
BENCH_BIN="$(printf '%s\n' "$bench_json" | grep '"executable":"' | grep ccx_bench \
  | sed 's/.*"executable":"\([^"]*\)".*/\1/' | tail -n1)"
target_dir="$(cargo metadata --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')"
CCX="$target_dir/release/ccx"
[ -x "$CCX" ] && [ -x "$BENCH_BIN" ] || { echo "bench.sh: build products missing ($CCX, $BENCH_BIN)" >&2; exit 1; }

# ---- scratch space (short path: it holds Unix sockets) -------------------------------------
if [ -n "${BENCH_DIR:-}" ]; then
  work="$BENCH_DIR"; mkdir -p "$work"; keep_work=1
else
  work="$(mktemp -d /tmp/ccxb.XXXXXX)"; keep_work=0
fi
cleanup() { [ "$keep_work" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/run" "$work/data" "$work/project" "$work/empty-project" "$work/fork-project" \
  "$work/import-project"
chmod 700 "$work/run"
# Keep ccx's sockets, data and logs inside the scratch space.
export XDG_RUNTIME_DIR="$work/run" CCX_DATA_DIR="$work/data"
unset CLAUDECODE CCX_CLAUDE 2>/dev/null || true

declare -A R
# BENCH_ONLY=store,search,archive (comma-separated sections) runs only those, prints the figures
# and writes no report; search needs store, export needs fork.
want() { [ -z "${BENCH_ONLY:-}" ] || [[ ",$BENCH_ONLY," == *",$1,"* ]]; }
collect() { # reads "RESULT key value" lines
  local tag key value
  while read -r tag key value; do
    [ "$tag" = RESULT ] && R[$key]="$value"
  done
}
step() { # runs a command, then collects its RESULT lines (set -e stops on failure)
  "$@" >"$work/step.out"
  collect <"$work/step.out"
}
now_ns() { date +%s%N; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }
time_runs() { # key runs command...: runs it `runs` times (stdout, stderr dropped; must succeed),
  # R[key_ms] = median wall time in ms, R[key_all] = every run
  local key=$1 runs=$2 r t0 t1 all=""
  shift 2
  for ((r = 1; r <= runs; r++)); do
    t0=$(now_ns)
    "$@" >/dev/null 2>"$work/time_runs.err" || { echo "bench.sh: $key failed:" >&2; cat "$work/time_runs.err" >&2; exit 1; }
    t1=$(now_ns)
    all+="$(calc '%.1f' "($t1 - $t0) / 1e6") "
  done
  R[${key}_ms]=$(printf '%s\n' $all | median)
  R[${key}_all]="$all"
}

started=$(now_ns)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
loads="" # the 1-minute load average as each section starts
note_load() { loads+="$1 $(cut -d' ' -f1 /proc/loadavg), "; }
# ratio NAME FORMAT A B: the result NAME is result A over result B, printed with FORMAT.
ratio() { R[$1]=$(calc "$2" "${R[$3]} / ${R[$4]}"); }

# ---- 1. throughput -------------------------------------------------------------------------
if want throughput; then
note_load throughput
echo "bench.sh: throughput: generating $MB MB of 80-column text..." >&2
file="$work/text-$MB.txt"
step "$BENCH_BIN" gen "$file" "$MB"
bytes="${R[gen_bytes]}"
lines=$((bytes / 80))
expect=$((bytes + lines)) # the PTY turns each \n into \r\n

run_ccx()    { "$CCX" exec -- cat "$file"; }
run_script() { script -q -c "cat '$file'" /dev/null; }
run_bare()   { "$BENCH_BIN" pty-copy cat "$file"; }
contenders=(ccx script bare)
export file CCX BENCH_BIN
export -f run_ccx run_script run_bare

# Warm-up (page cache) doubling as a check that every byte arrives.
for c in "${contenders[@]}"; do
  got=$(timeout -k 5 300 bash -c "run_$c" </dev/null | wc -c)
  if [ "$got" != "$expect" ]; then
    echo "bench.sh: $c copied $got bytes, expected $expect" >&2; exit 1
  fi
done

declare -A TIMES CPU MAXRSS
for ((r = 1; r <= RUNS; r++)); do
  for c in "${contenders[@]}"; do
    echo "bench.sh: throughput run $r/$RUNS: $c" >&2
    t0=$(now_ns)
    timeout -k 5 300 /usr/bin/time -f '%U %S %M' -o "$work/time.$c" \
      bash -c "run_$c" \
      </dev/null >/dev/null
    t1=$(now_ns)
    TIMES[$c]+="$(calc '%.6f' "($t1 - $t0) / 1e9") "
    read -r u s m <"$work/time.$c"
    CPU[$c]+="$(calc '%.3f' "$u + $s") "
    MAXRSS[$c]+="$m "
  done
done
for c in "${contenders[@]}"; do
  secs=$(printf '%s\n' ${TIMES[$c]} | median)
  R[tp_${c}_secs]=$secs
  R[tp_${c}_mbs]=$(calc '%.1f' "$bytes / 1e6 / $secs")
  R[tp_${c}_cpu]=$(printf '%s\n' ${CPU[$c]} | median)
  R[tp_${c}_maxrss_mb]=$(calc '%.1f' "$(printf '%s\n' ${MAXRSS[$c]} | median) / 1024")
  R[tp_${c}_all]="$(for t in ${TIMES[$c]}; do calc '%.1f ' "$bytes / 1e6 / $t"; done)"
done
# The same runs into a pipe that notes when the last byte arrived: separates how fast the
# bytes come through from how long the process takes to exit after that.
lastbyte_run() {
  local c=$1 t0 t2
  t0=$(now_ns)
  timeout -k 5 300 bash -c "run_$c" </dev/null \
    | { head -c "$expect" >/dev/null; now_ns >"$work/lastbyte"; cat >/dev/null; }
  t2=$(now_ns)
  LB[$c]+="$(calc '%.6f' "($(cat "$work/lastbyte") - $t0) / 1e9") "
  EX[$c]+="$(calc '%.6f' "($t2 - $t0) / 1e9") "
}
declare -A LB EX
for ((r = 1; r <= RUNS; r++)); do
  for c in "${contenders[@]}"; do
    echo "bench.sh: throughput run $r/$RUNS into a pipe: $c" >&2
    lastbyte_run "$c"
  done
done
for c in "${contenders[@]}"; do
  R[lb_${c}_mbs]=$(calc '%.1f' "$bytes / 1e6 / $(printf '%s\n' ${LB[$c]} | median)")
  R[ex_${c}_mbs]=$(calc '%.1f' "$bytes / 1e6 / $(printf '%s\n' ${EX[$c]} | median)")
  R[lb_${c}_after_exit_ms]=$(calc '%.0f' "($(printf '%s\n' ${EX[$c]} | median) - $(printf '%s\n' ${LB[$c]} | median)) * 1000")
done
ratio lb_ratio_script '%.3f' lb_ccx_mbs lb_script_mbs
ratio ex_ratio_script '%.3f' ex_ccx_mbs ex_script_mbs
ratio tp_ratio_script '%.3f' tp_ccx_mbs tp_script_mbs
ratio tp_ratio_bare '%.3f' tp_ccx_mbs tp_bare_mbs
rm -f "$file"
fi

# ---- 1b. recorded-session flood -------------------------------------------------------------
if want flood; then
# A `ccx` session (store, hook bridge, key filter and screen model live) whose claude is a
# stand-in that cats the file, against `script` catting it; the bench driver is the terminal
# of both (a PTY it reads to the end). Then where the session's output path spends its time.
note_load session_flood
echo "bench.sh: recorded-session flood: $MB MB through a ccx session and through script..." >&2
flood_file="$work/flood-$MB.txt"
step "$BENCH_BIN" gen "$flood_file" "$MB"
flood_expect=$((${R[gen_bytes]} + ${R[gen_bytes]} / 80))
flood_claude="$work/flood-claude"
printf '#!/bin/sh\nexec cat "%s"\n' "$flood_file" >"$flood_claude"
chmod +x "$flood_claude"
mkdir -p "$work/flood-home" "$work/flood-data" "$work/flood-project"
flood_run() { # contender: one run, its RESULT lines collected as fl_<contender>_*
  if [ "$1" = ccx ]; then
    (cd "$work/flood-project" && HOME="$work/flood-home" CCX_DATA_DIR="$work/flood-data" \
      CCX_CLAUDE="$flood_claude" timeout -k 5 300 "$BENCH_BIN" pty-read name=fl_ccx -- "$CCX" \
      </dev/null >"$work/step.out")
  else
    timeout -k 5 300 "$BENCH_BIN" pty-read name=fl_script -- \
      script -q -c "cat '$flood_file'" /dev/null </dev/null >"$work/step.out"
  fi
  collect <"$work/step.out"
  if [ "${R[fl_$1_bytes]}" -lt "$flood_expect" ]; then
    echo "bench.sh: flood through $1 gave ${R[fl_$1_bytes]} bytes, expected $flood_expect" >&2; exit 1
  fi
}
declare -A FL FLS
for c in ccx script; do flood_run "$c"; done # warm-up, and the check that every byte arrives
for ((r = 1; r <= RUNS; r++)); do
  for c in ccx script; do
    echo "bench.sh: recorded-session flood run $r/$RUNS: $c" >&2
    flood_run "$c"
    FL[$c]+="${R[fl_${c}_secs]} "
    FLS[$c]+="$(calc '%.6f' "${R[fl_${c}_secs]} - ${R[fl_${c}_first_secs]}") "
  done
done
for c in ccx script; do
  R[fl_${c}_secs]=$(printf '%s\n' ${FL[$c]} | median)
  R[fl_${c}_mbs]=$(calc '%.1f' "${R[gen_bytes]} / 1e6 / ${R[fl_${c}_secs]}")
  R[fl_${c}_all]="$(for t in ${FL[$c]}; do calc '%.1f ' "${R[gen_bytes]} / 1e6 / $t"; done)"
  R[fl_${c}_stream_mbs]=$(calc '%.1f' "${R[gen_bytes]} / 1e6 / $(printf '%s\n' ${FLS[$c]} | median)")
done
ratio fl_ratio '%.3f' fl_ccx_mbs fl_script_mbs
ratio fl_stream_ratio '%.3f' fl_ccx_stream_mbs fl_script_stream_mbs
R[fl_mb]=$(calc '%.1f' "${R[gen_bytes]} / 1e6")
echo "bench.sh: where a session's output path spends its time..." >&2
step "$BENCH_BIN" model "$flood_file"
rm -f "$flood_file"
fi

# ---- 2. keystroke round trip ---------------------------------------------------------------
if want keystrokes; then
note_load keystrokes
echo "bench.sh: keystroke round trip ($KEYS samples each)..." >&2
step timeout -k 5 180 "$BENCH_BIN" keystroke "$CCX" samples="$KEYS" </dev/null
R[key_added_p50_ms]=$(calc '%.3f' "${R[key_ccx_p50_ms]} - ${R[key_bare_p50_ms]}")
R[key_added_p99_ms]=$(calc '%.3f' "${R[key_ccx_p99_ms]} - ${R[key_bare_p99_ms]}")
echo "bench.sh: keystroke round trip through a recorded session under a 10 MB/s flood..." >&2
mkdir -p "$work/keyflood"
step timeout -k 5 900 "$BENCH_BIN" keystroke-flood "$CCX" rounds="$KEYFLOOD_ROUNDS" \
  samples="$KEYFLOOD_SAMPLES" rate_mb=10 dir="$work/keyflood" </dev/null
R[keyflood_added_p50_ms]=$(calc '%.3f' "${R[keyflood_added_p50_ms]}")
R[keyflood_added_p99_ms]=$(calc '%.3f' "${R[keyflood_added_p99_ms]}")
echo "bench.sh: \`:\` during a 10 MB/s flood of Claude-like frames ($COLON samples)..." >&2
mkdir -p "$work/colon"
step timeout -k 5 600 "$BENCH_BIN" colon-flood "$CCX" samples="$COLON" rate_mb=10 dir="$work/colon" </dev/null
fi

# ---- 3. store and hook path ----------------------------------------------------------------
if want store; then
note_load store
echo "bench.sh: store: filling $TURNS turns, then $STORE_SAMPLES finish_turn + $HOOK_SAMPLES hooks..." >&2
step timeout -k 5 420 "$BENCH_BIN" store "$CCX" data="$work/data" project="$work/project" \
  anchor="$work/sled-anchor" turns="$TURNS" samples="$STORE_SAMPLES" \
  hook_samples="$HOOK_SAMPLES" transcript_turns="$TRANSCRIPT_TURNS" text="$work/turns.txt" </dev/null
R[store_disk_mb]=$(du -sm "$work/data/projects" | awk '{print $1}')
rm -rf "$work/sled-anchor"
fi

# ---- 4. search over that store -------------------------------------------------------------
if want search; then
note_load search
# Three words: one in the reply of 1 turn in 1000, one in ~5% of the prompts (a file name), one
# only in the tool output of 1 turn in 1000 (every turn holds a Bash call and its output).
# `ccx search` looks in prompts, replies and tool calls by default (deep search).
echo "bench.sh: search over ${R[fill_turns]} turns ($SEARCH_RUNS runs each)..." >&2
search_words=(quixotic parser segfault)
run_search() { (cd "$work/project" && timeout -k 5 120 "$CCX" search "$1" --json); }
run_grep() { timeout -k 5 60 grep -c -i -- "$1" "$work/turns.txt" || [ $? = 1 ]; }
for w in "${search_words[@]}"; do
  run_search "$w" >/dev/null # warm-up (page cache)
  time_runs "search_${w}_ccx" "$SEARCH_RUNS" run_search "$w"
  time_runs "search_${w}_grep" "$SEARCH_RUNS" run_grep "$w"
  ratio search_${w}_ratio '%.1f' search_${w}_ccx_ms search_${w}_grep_ms
  # The same phases in process: open the store, load the candidate turns, match, render the JSON;
  # deep (prompt, reply and tool calls: what `ccx search` does), and for the prompt and reply only.
  step timeout -k 5 300 "$BENCH_BIN" search data="$work/data" project="$work/project" word="$w" \
    name="search_${w}_deep" samples="$SEARCH_RUNS" deep=1 </dev/null
  [ "$w" = segfault ] && continue # (in no prompt or reply)
  step timeout -k 5 300 "$BENCH_BIN" search data="$work/data" project="$work/project" word="$w" \
    name="search_${w}" samples="$SEARCH_RUNS" </dev/null
done
R[search_segfault_hits]=$(cd "$work/project" && "$CCX" search segfault --json | grep -c '"matched_in"' || true)
R[search_segfault_turns]=${R[search_quixotic_turns]}
R[search_text_mb]=$(calc '%.1f' "$(stat -c %s "$work/turns.txt") / 1e6")
rm -f "$work/turns.txt"
fi

# ---- 5. idle RSS ---------------------------------------------------------------------------
if want rss; then
note_load RSS
echo "bench.sh: idle RSS..." >&2
fake="$work/fake-claude"
printf '#!/bin/sh\nexec sleep 30\n' >"$fake"
chmod +x "$fake"
step timeout -k 5 60 "$BENCH_BIN" rss name=exec wait_ms=2000 -- "$CCX" exec -- sleep 30 </dev/null
cd "$work/empty-project"
CCX_CLAUDE="$fake" step timeout -k 5 60 "$BENCH_BIN" rss name=session wait_ms=2000 -- "$CCX" </dev/null
cd "$work/project"
CCX_CLAUDE="$fake" step timeout -k 5 60 "$BENCH_BIN" rss name=session_full wait_ms=2000 -- "$CCX" </dev/null
cd "$root"
fi

# ---- 6. fork after the last turn of a long branch; the export branch ------------------------
if want fork; then
note_load fork
echo "bench.sh: fork: a $FORK_TURNS-turn branch ($FORK_LINES lines of ~$FORK_LINE_BYTES bytes a turn), a $EXPORT_TURNS-turn export branch, $FORK_SAMPLES forks..." >&2
step timeout -k 5 600 "$BENCH_BIN" fork data="$work/fork-data" project="$work/fork-project" \
  out="$work/fork-out" turns="$FORK_TURNS" lines="$FORK_LINES" line_bytes="$FORK_LINE_BYTES" \
  samples="$FORK_SAMPLES" export_turns="$EXPORT_TURNS" </dev/null
ratio fork_ratio '%.1f' fork_owner_p50_ms fork_copy_p50_ms
ratio fork_ratio_sync '%.1f' fork_owner_p50_ms fork_copy_sync_p50_ms
ratio fork_client_ratio '%.1f' fork_client_p50_ms fork_copy_p50_ms
R[fork_mb]=$(calc '%.1f' "${R[fork_bytes]} / 1e6")
rm -rf "$work/fork-out"
fi

# ---- 7. export ------------------------------------------------------------------------------
if want export; then
note_load export
echo "bench.sh: export of $EXPORT_TURNS turns ($EXPORT_RUNS runs each)..." >&2
run_export() { (cd "$work/fork-project" && CCX_DATA_DIR="$work/fork-data" timeout -k 5 120 "$CCX" export export --format "$1" -o "$work/export.$1" --force); }
run_cp() { cp "$work/export.$1" "$work/export-copy.$1"; }
run_cat() { cat "$work/export.$1" >"$work/export-cat.$1"; }
for f in md json html; do
  run_export "$f" # warm-up
  time_runs "export_${f}_ccx" "$EXPORT_RUNS" run_export "$f"
  time_runs "export_${f}_cp" "$EXPORT_RUNS" run_cp "$f"
  time_runs "export_${f}_cat" "$EXPORT_RUNS" run_cat "$f"
  R[export_${f}_mb]=$(calc '%.1f' "$(stat -c %s "$work/export.$f") / 1e6")
  ratio export_${f}_ratio '%.0f' export_${f}_ccx_ms export_${f}_cp_ms
  rm -f "$work/export.$f" "$work/export-copy.$f" "$work/export-cat.$f"
done
ratio export_html_vs_md '%.1f' export_html_ccx_ms export_md_ccx_ms
rm -rf "$work/fork-data"
fi

# ---- 7b. confirming turns from the transcript -----------------------------------------------
if want confirm; then
note_load confirm
CONFIRM_LINES="${BENCH_CONFIRM_LINES:-10000}"
if [ "$quick" = 1 ]; then CONFIRM_SAMPLES="${BENCH_CONFIRM_SAMPLES:-200}"; else CONFIRM_SAMPLES="${BENCH_CONFIRM_SAMPLES:-500}"; fi
echo "bench.sh: confirming $CONFIRM_SAMPLES turns from a $CONFIRM_LINES-line transcript..." >&2
step timeout -k 5 300 "$BENCH_BIN" confirm "lines=$CONFIRM_LINES" "samples=$CONFIRM_SAMPLES" </dev/null
fi

# ---- 8. import ------------------------------------------------------------------------------
if want import; then
note_load import
echo "bench.sh: import: generating a $IMPORT_MB MB transcript..." >&2
tr_file="$work/import-project/session.jsonl"
step "$BENCH_BIN" gen-transcript "$tr_file" "$IMPORT_MB"
time_runs import_wc 3 wc -l "$tr_file"
step timeout -k 5 300 "$BENCH_BIN" parse "$tr_file" </dev/null
all=""
R[import_status]="ok"
for ((r = 1; r <= IMPORT_RUNS; r++)); do
  echo "bench.sh: import run $r/$IMPORT_RUNS (at most $IMPORT_LIMIT s)..." >&2
  rm -rf "$work/import-data"
  t0=$(now_ns)
  rc=0
  (cd "$work/import-project" && CCX_DATA_DIR="$work/import-data" timeout -k 5 "$IMPORT_LIMIT" "$CCX" import "$tr_file") \
    >"$work/import.out" 2>&1 || rc=$?
  t1=$(now_ns)
  if [ "$rc" = 124 ]; then
    R[import_status]="stopped after $IMPORT_LIMIT s"; all+="$IMPORT_LIMIT "
    break
  elif [ "$rc" != 0 ]; then
    echo "bench.sh: ccx import failed:" >&2; cat "$work/import.out" >&2; exit 1
  fi
  all+="$(calc '%.2f' "($t1 - $t0) / 1e9") "
  R[import_turns]=$(sed -n 's/^imported \([0-9]*\) turn.*/\1/p' "$work/import.out")
done
# Again into the last run's store: nothing new, so this is the cost of finding that out.
if [ "${R[import_status]}" = ok ]; then
  t0=$(now_ns)
  (cd "$work/import-project" && CCX_DATA_DIR="$work/import-data" timeout -k 5 "$IMPORT_LIMIT" "$CCX" import "$tr_file") \
    >"$work/import.out" 2>&1 || { echo "bench.sh: the second ccx import failed:" >&2; cat "$work/import.out" >&2; exit 1; }
  t1=$(now_ns)
  R[reimport_secs]=$(calc '%.2f' "($t1 - $t0) / 1e9")
  R[reimport_said]=$(head -1 "$work/import.out")
else
  R[reimport_secs]="not run"; R[reimport_said]=""
fi
R[import_secs]=$(printf '%s\n' $all | median)
R[import_all]="$all"
ratio import_ratio_parse '%.0f' import_secs parse_secs
R[import_mb]=$(calc '%.1f' "${R[tr_bytes]} / 1e6")
R[import_store_mb]=$(du -sm "$work/import-data" 2>/dev/null | awk '{print $1}')
rm -rf "$work/import-data" "$tr_file"
fi

# ---- 9. archive ----------------------------------------------------------------------------
# `ccx archive` over ARCHIVE_FILES Claude Code transcripts in ARCHIVE_FILES/50 projects: the
# first run imports them all; the next ones find nothing new (the retention guard at every
# start). Anchor: `find` reading the size and modification time of the same files.
if want archive; then
note_load archive
arch="$work/archive"
rm -rf "$arch"
mkdir -p "$arch/projects"
echo "bench.sh: archive: $ARCHIVE_FILES transcripts in $(((ARCHIVE_FILES + 49) / 50)) projects..." >&2
step "$BENCH_BIN" archive-gen claude="$arch/claude" projects="$arch/projects" files="$ARCHIVE_FILES" \
  per_project=50 turns=3 </dev/null
run_archive() { (cd "$arch" && CLAUDE_CONFIG_DIR="$arch/claude" CCX_DATA_DIR="$arch/data" timeout -k 5 900 "$CCX" archive); }
run_stat() { find "$arch/claude/projects" -name '*.jsonl' -printf '%s %T@\n'; }
t0=$(now_ns)
run_archive >"$work/archive.out" 2>&1 || { echo "bench.sh: ccx archive failed:" >&2; cat "$work/archive.out" >&2; exit 1; }
t1=$(now_ns)
R[archive_first_secs]=$(calc '%.2f' "($t1 - $t0) / 1e9")
R[archive_first_said]=$(head -1 "$work/archive.out" | sed 's/: .*//')
run_archive >/dev/null # warm-up (page cache)
time_runs archive_again "$ARCHIVE_RUNS" run_archive
time_runs archive_stat "$ARCHIVE_RUNS" run_stat
R[archive_again_said]=$(run_archive | head -1)
ratio archive_ratio '%.1f' archive_again_ms archive_stat_ms
rm -rf "$arch"
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
note_load end
loads="${loads%, }"
elapsed=$(calc '%.0f' "($(now_ns) - $started) / 1e9")
if [ -n "${BENCH_ONLY:-}" ]; then
  echo "bench.sh: BENCH_ONLY=$BENCH_ONLY: the figures, no report (measuring took ${elapsed} s; load $loads)" >&2
  for key in "${!R[@]}"; do printf '%s %s\n' "$key" "${R[$key]}"; done | sort
  exit 0
fi

# ---- report --------------------------------------------------------------------------------
verdict() { # value op target -> "met" / "MISSED"
  if awk "BEGIN {exit !($1 $2 $3)}"; then echo "met"; else echo "**MISSED**"; fi
}
verdict_at() { # size needed value op target: a verdict only when the run was at the target's size
  if awk "BEGIN {exit !($1 >= $2)}"; then verdict "$3" "$4" "$5"; else echo "not judged (target is at $2)"; fi
}
kb_mb() { calc '%.1f' "$1 / 1024"; }

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem_total=$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)
machine="$(nproc) CPUs ($cpu_model), $mem_total RAM, Linux $(uname -r), $(rustc --version), $(script --version 2>&1 | head -1)"
date_now=$(date -u '+%Y-%m-%d %H:%M UTC')
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo " (uncommitted changes)" || true)

report=$(cat <<EOF
# ccx performance

Measured by \`scripts/bench.sh\` ($mode run) on $date_now, at commit $rev$dirty.

**Machine:** $machine. Load average (1/5/15 min) $load_start at the start, $load_end at the
end (1-minute load as each section started: $loads): this machine is shared, and other work
running beside the benchmark shows most in the p99 figures.

Every figure is measured beside an anchor in the same run and reported as a ratio or a
difference; none is a timed assertion in a test. This run measured for ${elapsed} s (plus the
build). Run it again with \`scripts/bench.sh\` (full) or \`BENCH_QUICK=1 scripts/bench.sh\`
(quick); sizes are set by the \`BENCH_*\` variables described at the top of the script.

| figure | ccx | anchor | ccx vs anchor | target | |
| --- | --- | --- | --- | --- | --- |
| throughput, \`exec -- cat\` $MB MB | ${R[tp_ccx_mbs]} MB/s | \`script\` ${R[tp_script_mbs]} MB/s | ×${R[tp_ratio_script]} | ≥ ×0.95 | $(verdict "${R[tp_ratio_script]}" '>=' 0.95) |
| throughput, second anchor | | bare PTY copy ${R[tp_bare_mbs]} MB/s | ×${R[tp_ratio_bare]} | | |
| throughput, to the last byte (pipe sink) | ${R[lb_ccx_mbs]} MB/s | \`script\` ${R[lb_script_mbs]} MB/s | ×${R[lb_ratio_script]} | | |
| recorded-session flood, \`ccx\` with a stand-in claude catting ${R[fl_mb]} MB | ${R[fl_ccx_mbs]} MB/s | \`script\` ${R[fl_script_mbs]} MB/s | ×${R[fl_ratio]} | ≥ ×0.95 | $(verdict "${R[fl_ratio]}" '>=' 0.95) |
| keystroke round trip p50 | ${R[key_ccx_p50_ms]} ms | bare PTY ${R[key_bare_p50_ms]} ms | +${R[key_added_p50_ms]} ms | | |
| keystroke round trip p99 | ${R[key_ccx_p99_ms]} ms | bare PTY ${R[key_bare_p99_ms]} ms | +${R[key_added_p99_ms]} ms | added < 1 ms | $(verdict "${R[key_added_p99_ms]}" '<' 1) |
| keystroke round trip p50, recorded session under a 10 MB/s flood | ${R[keyflood_ccx_p50_ms]} ms | bare PTY, same flood ${R[keyflood_bare_p50_ms]} ms | +${R[keyflood_added_p50_ms]} ms | | |
| keystroke round trip p99, recorded session under a 10 MB/s flood (${R[keyflood_ccx_n]} samples in $KEYFLOOD_ROUNDS rounds; added p99 per round: median $(calc '%+.2f' "${R[keyflood_added_p99_median_ms]}"), from $(calc '%+.2f' "${R[keyflood_added_p99_min_ms]}") to $(calc '%+.2f' "${R[keyflood_added_p99_max_ms]}") ms; load ${R[keyflood_load]}, CPU pressure ${R[keyflood_cpu_pressure]}) | ${R[keyflood_ccx_p99_ms]} ms | bare PTY, same flood ${R[keyflood_bare_p99_ms]} ms | +${R[keyflood_added_p99_ms]} ms | added < 1 ms | $(verdict "${R[keyflood_added_p99_ms]}" '<' 1) |
| \`:\` during a 10 MB/s flood → ccx's editor shown, p99 | ${R[colon_flood_p99_ms]} ms | the same session at rest ${R[colon_rest_p99_ms]} ms | +$(calc '%.1f' "${R[colon_flood_p99_ms]} - ${R[colon_rest_p99_ms]}") ms | < 50 ms | $(verdict "${R[colon_flood_p99_ms]}" '<' 50) |
| the repaint on return, exact / \`:\` that missed the editor | ${R[colon_exact]} of $(( ${R[colon_exact]} + ${R[colon_inexact]} )) / ${R[colon_misses]} | | | all exact, none missed | $( [ "${R[colon_inexact]}" = 0 ] && [ "${R[colon_misses]}" = 0 ] && echo met || echo '**MISSED**') |
| \`finish_turn\` p50, ${R[fill_turns]} turns stored | ${R[finish_p50_ms]} ms | sled insert + flush ${R[sled_anchor_p50_ms]} ms | ×$(calc '%.1f' "${R[finish_p50_ms]} / ${R[sled_anchor_p50_ms]}") | | |
| \`finish_turn\` p99, ${R[fill_turns]} turns stored | ${R[finish_p99_ms]} ms | sled insert + flush ${R[sled_anchor_p99_ms]} ms | ×$(calc '%.1f' "${R[finish_p99_ms]} / ${R[sled_anchor_p99_ms]}") | < 5 ms | $(verdict "${R[finish_p99_ms]}" '<' 5) |
| \`ccx __hook\` (Stop) until exit, p50 | ${R[hook_exit_p50_ms]} ms | \`/bin/true\` ${R[true_exit_p50_ms]} ms | +$(calc '%.2f' "${R[hook_exit_p50_ms]} - ${R[true_exit_p50_ms]}") ms | | |
| \`ccx __hook\` (Stop) until exit, p99 | ${R[hook_exit_p99_ms]} ms | \`/bin/true\` ${R[true_exit_p99_ms]} ms | +$(calc '%.2f' "${R[hook_exit_p99_ms]} - ${R[true_exit_p99_ms]}") ms | ≤ 100 ms | $(verdict "${R[hook_exit_p99_ms]}" '<=' 100) |
| Stop hook → turn durable, p50 / p99 | ${R[hook_durable_p50_ms]} / ${R[hook_durable_p99_ms]} ms | | | | |
| first Stop of a session → durable | ${R[hook_first_durable_ms]} ms | | | | |
| reading the transcript to confirm a turn, p99 (${R[confirm_transcript_lines]}-line transcript) | ${R[confirm_tail_read_p99_ms]} ms (tail) | whole file read + parsed ${R[confirm_full_read_p99_ms]} ms | | added < 5 ms | $(verdict "${R[confirm_tail_read_p99_ms]}" '<' 5) |
| Stop → durable with the transcript read, p50 / p99 (recorder, same transcript) | ${R[confirm_stop_durable_p50_ms]} / ${R[confirm_stop_durable_p99_ms]} ms | | | | |
| prompt confirmed in the transcript → turn stored, p50 / p99 | ${R[confirm_prompt_p50_ms]} / ${R[confirm_prompt_p99_ms]} ms | | | | |
| idle RSS, \`ccx exec -- sleep 30\` | $(kb_mb "${R[exec_rss_kb]}") MB | | | < 40 MB | $(verdict "${R[exec_rss_kb]}" '<' 40960) |
| idle RSS, \`ccx\` session (fake claude, empty store) | $(kb_mb "${R[session_rss_kb]}") MB | | | < 40 MB | $(verdict "${R[session_rss_kb]}" '<' 40960) |
| idle RSS, \`ccx\` session (fake claude, ${R[fill_turns]}-turn store) | $(kb_mb "${R[session_full_rss_kb]}") MB | | | < 40 MB | $(verdict "${R[session_full_rss_kb]}" '<' 40960) |
| fork after turn ${R[fork_turns]} of a branch, ready for claude, p50 (max) | ${R[fork_owner_p50_ms]} (${R[fork_owner_max_ms]}) ms | \`fs::copy\` of the same ${R[fork_mb]} MB ${R[fork_copy_p50_ms]} ms | ×${R[fork_ratio]} | < 1 s (max) | $(verdict_at "${R[fork_turns]}" 1000 "${R[fork_owner_max_ms]}" '<' 1000) |
| the same through a client \`Store\`, p50 (max) | ${R[fork_client_p50_ms]} (${R[fork_client_max_ms]}) ms | \`fs::copy\` + fsync ${R[fork_copy_sync_p50_ms]} ms | ×${R[fork_client_ratio]} (copy) | < 1 s (max) | $(verdict_at "${R[fork_turns]}" 1000 "${R[fork_client_max_ms]}" '<' 1000) |
| \`ccx search quixotic --json\`, ${R[search_quixotic_turns]} turns (${R[search_quixotic_hits]} hits) | ${R[search_quixotic_ccx_ms]} ms | \`grep -ci\` ${R[search_quixotic_grep_ms]} ms | ×${R[search_quixotic_ratio]} | < 300 ms | $(verdict_at "${R[search_quixotic_turns]}" 100000 "${R[search_quixotic_ccx_ms]}" '<' 300) |
| \`ccx search parser --json\`, ${R[search_parser_turns]} turns (${R[search_parser_hits]} hits) | ${R[search_parser_ccx_ms]} ms | \`grep -ci\` ${R[search_parser_grep_ms]} ms | ×${R[search_parser_ratio]} | < 300 ms | $(verdict_at "${R[search_parser_turns]}" 100000 "${R[search_parser_ccx_ms]}" '<' 300) |
| deep search \`ccx search segfault --json\` (tool output only), ${R[search_segfault_turns]} turns (${R[search_segfault_hits]} hits) | ${R[search_segfault_ccx_ms]} ms | \`grep -ci\` ${R[search_segfault_grep_ms]} ms | ×${R[search_segfault_ratio]} | < 500 ms | $(verdict_at "${R[search_segfault_turns]}" 100000 "${R[search_segfault_ccx_ms]}" '<' 500) |
| \`ccx import\` of a ${R[import_mb]} MB transcript (${R[tr_turns]} turns) | ${R[import_secs]} s | serde_json parse of every line ${R[parse_secs]} s; \`wc -l\` ${R[import_wc_ms]} ms | ×${R[import_ratio_parse]} | < 3 s | $(verdict_at "${R[import_mb]}" 100 "${R[import_secs]}" '<' 3) |
| \`ccx export\` of ${R[export_turns]} turns, md (${R[export_md_mb]} MB) | ${R[export_md_ccx_ms]} ms | \`cp\` ${R[export_md_cp_ms]} ms, \`cat\` ${R[export_md_cat_ms]} ms | ×${R[export_md_ratio]} (cp) | < 1 s | $(verdict_at "${R[export_turns]}" 10000 "${R[export_md_ccx_ms]}" '<' 1000) |
| \`ccx export\` of ${R[export_turns]} turns, json (${R[export_json_mb]} MB) | ${R[export_json_ccx_ms]} ms | \`cp\` ${R[export_json_cp_ms]} ms, \`cat\` ${R[export_json_cat_ms]} ms | ×${R[export_json_ratio]} (cp) | < 1 s | $(verdict_at "${R[export_turns]}" 10000 "${R[export_json_ccx_ms]}" '<' 1000) |
| \`ccx archive\` with nothing new, ${ARCHIVE_FILES} transcripts in $(((ARCHIVE_FILES + 49) / 50)) projects | ${R[archive_again_ms]} ms | \`find -printf '%s %T@'\` ${R[archive_stat_ms]} ms | ×${R[archive_ratio]} | < 200 ms | $(verdict_at "$ARCHIVE_FILES" 1000 "${R[archive_again_ms]}" '<' 200) |
| \`ccx export\` of ${R[export_turns]} turns, html (${R[export_html_mb]} MB) | ${R[export_html_ccx_ms]} ms | md export ${R[export_md_ccx_ms]} ms | ×${R[export_html_vs_md]} (md) | < 2 s | $(verdict_at "${R[export_turns]}" 10000 "${R[export_html_ccx_ms]}" '<' 2000) |

## Details

**Throughput.** The same $(calc '%.1f' "$bytes / 1e6") MB of 80-column text ($lines lines) through
\`ccx exec -- cat FILE\`, \`script -q -c 'cat FILE' /dev/null\` and a bare portable-pty copy
(\`ccx_bench pty-copy cat FILE\`: read the PTY, write stdout, nothing else), each with stdin
from \`/dev/null\` and stdout to \`/dev/null\`, alternated ($RUNS runs each, after one warm-up run
each that also checks all $expect bytes arrive). MB/s = input bytes / wall time, median.

| contender | MB/s per run | median MB/s | CPU s (user+sys, median) | peak RSS |
| --- | --- | --- | --- | --- |
| \`ccx exec\` | ${R[tp_ccx_all]} | ${R[tp_ccx_mbs]} | ${R[tp_ccx_cpu]} | ${R[tp_ccx_maxrss_mb]} MB |
| \`script\` | ${R[tp_script_all]} | ${R[tp_script_mbs]} | ${R[tp_script_cpu]} | ${R[tp_script_maxrss_mb]} MB |
| bare PTY copy | ${R[tp_bare_all]} | ${R[tp_bare_mbs]} | ${R[tp_bare_cpu]} | ${R[tp_bare_maxrss_mb]} MB |

The same, with stdout into a pipe whose reader notes when the last byte arrived ($RUNS runs each,
alternated, medians): how fast the bytes come through, and how long the process then takes to
exit.

| contender | MB/s to the last byte | MB/s to exit | exit after the last byte |
| --- | --- | --- | --- |
| \`ccx exec\` | ${R[lb_ccx_mbs]} (×${R[lb_ratio_script]} \`script\`) | ${R[ex_ccx_mbs]} (×${R[ex_ratio_script]}) | ${R[lb_ccx_after_exit_ms]} ms |
| \`script\` | ${R[lb_script_mbs]} | ${R[ex_script_mbs]} | ${R[lb_script_after_exit_ms]} ms |
| bare PTY copy | ${R[lb_bare_mbs]} | ${R[ex_bare_mbs]} | ${R[lb_bare_after_exit_ms]} ms |

**Recorded-session flood.** A \`ccx\` session in a private \`HOME\` and data directory (its
store, hook bridge, key filter and screen model live) whose claude (\`CCX_CLAUDE\`) is a stand-in
script that runs \`cat\` on ${R[fl_mb]} MB of 80-column text, against \`script -q -c 'cat FILE'
/dev/null\`; the bench driver is the terminal of each (\`ccx_bench pty-read\`: a 24 x 80 PTY read
to the end), alternated ($RUNS runs each after a warm-up each that checks every byte arrives).
MB/s = file bytes / time to the last byte, median.

| contender | MB/s per run | median MB/s | from the first byte to the last, median |
| --- | --- | --- | --- |
| \`ccx\` session | ${R[fl_ccx_all]}| ${R[fl_ccx_mbs]} | ${R[fl_ccx_stream_mbs]} MB/s (×${R[fl_stream_ratio]} \`script\`) |
| \`script\` | ${R[fl_script_all]}| ${R[fl_script_mbs]} | ${R[fl_script_stream_mbs]} MB/s |

Where a session's output path spends its time (\`ccx_bench model\`: the same bytes, as the PTY
delivers them, in 64 KiB reads through each stage alone, one thread): copying a read
${R[model_copy_mbs]} MB/s; the mode tracker ${R[model_modes_mbs]} MB/s; the terminal-query
detector ${R[model_queries_mbs]} MB/s; the keyboard-mode scan ${R[model_keyboard_mbs]} MB/s;
vt100 ${R[model_vt100_64k_mbs]} MB/s (64 KiB pieces), ${R[model_vt100_256k_mbs]} MB/s (256 KiB
pieces); the whole screen model (\`ScreenModel::feed\` of every read, then a question that waits
for the parser) ${R[model_screen_mbs]} MB/s.

**Keystroke round trip.** A driver owns two PTYs: one runs \`ccx exec -- sh -c 'stty raw -echo;
cat'\`, the other the same \`sh -c\` bare. It writes one byte and times until it is read back,
alternating between the two, 1 ms apart, ${R[key_ccx_n]} samples each after 100 warm-ups.

| | p50 | p99 | max |
| --- | --- | --- | --- |
| through ccx | ${R[key_ccx_p50_ms]} ms | ${R[key_ccx_p99_ms]} ms | ${R[key_ccx_max_ms]} ms |
| bare PTY | ${R[key_bare_p50_ms]} ms | ${R[key_bare_p99_ms]} ms | ${R[key_bare_max_ms]} ms |

Under a flood: a stand-in claude (\`stty raw -echo\`, then \`ccx_bench trickle 10\` in the
background writing 80-byte lines ending in CR LF to the terminal at 10 MB/s, then \`cat\`) run as
the claude of a recorded \`ccx\` session (private \`HOME\` and data directory) and bare in a PTY;
each terminal is read all the time by a thread of the driver, as a terminal does; a digit (the
flood holds none) is written and timed until it is read back among the flood, alternated
sample by sample, 1 ms apart, after 100 warm-ups: $KEYFLOOD_ROUNDS rounds of
$KEYFLOOD_SAMPLES samples each, every round with the 1-minute load and the CPU pressure (the
share of the last 10 s in which some task waited for a CPU, \`/proc/pressure/cpu\`) at its end.
Added p99 per round (ms): ${R[keyflood_rounds_added_p99_ms]}. The round with the lowest CPU
pressure: ${R[keyflood_quietest]}.

| | p50 | p99 | max |
| --- | --- | --- | --- |
| through a \`ccx\` session | ${R[keyflood_ccx_p50_ms]} ms | ${R[keyflood_ccx_p99_ms]} ms | ${R[keyflood_ccx_max_ms]} ms |
| bare PTY | ${R[keyflood_bare_p50_ms]} ms | ${R[keyflood_bare_p99_ms]} ms | ${R[keyflood_bare_max_ms]} ms |

**\`:\` during a flood.** A stand-in claude (\`ccx_bench prompt-flood 10\`, its terminal raw)
draws an empty prompt (\`❯ \`) and then, every millisecond, 10 kB of 80-column lines scrolling up
with the prompt drawn again below them, each frame one synchronized update (\`ESC [ ? 2026 h\` …
\`l\`) as Claude Code draws; none of it is plain enough for the screen model to skip. The
driver is the terminal of a recorded \`ccx\` session running it and reads it all the time. Each
sample presses \`:\` and times until the editor's header arrives; then the flood is paused
(while the editor is open, so what it drew meanwhile reaches only the screen model), Enter
returns to Claude, and a fresh 24 x 80 vt100 fed only the bytes ccx wrote after the return must
show what vt100 makes of the stand-in's own last 64 kB (more than two screens of lines, then a
last frame with colours, reverse video and a cursor move). Samples alternate with the same
\`:\` while the flood is paused (the anchor), ${R[colon_flood_n]} and ${R[colon_rest_n]} timed.

| | p50 | p99 | max |
| --- | --- | --- | --- |
| \`:\` during the flood | ${R[colon_flood_p50_ms]} ms | ${R[colon_flood_p99_ms]} ms | ${R[colon_flood_max_ms]} ms |
| \`:\` at rest | ${R[colon_rest_p50_ms]} ms | ${R[colon_rest_p99_ms]} ms | ${R[colon_rest_max_ms]} ms |
| Enter → Claude's screen exact again, opened during the flood | ${R[colon_flood_back_p50_ms]} ms | ${R[colon_flood_back_p99_ms]} ms | ${R[colon_flood_back_max_ms]} ms |
| Enter → Claude's screen exact again, opened at rest | ${R[colon_rest_back_p50_ms]} ms | ${R[colon_rest_back_p99_ms]} ms | ${R[colon_rest_back_max_ms]} ms |

Repaints exact: ${R[colon_exact]}, not: ${R[colon_inexact]}; \`:\` that reached claude instead of
opening the editor: ${R[colon_misses]}.

**Store.** Through the library (\`ccx::store::Store\`, as the owning process): filling
${R[fill_turns]} turns (\`begin_turn\` + \`finish_turn\`, each flushed; a turn record of
${R[turn_bytes]} bytes and ${R[entries_bytes]} bytes of transcript entries) took ${R[fill_secs]} s
(${R[fill_turns_per_sec]} turns/s); the store takes ${R[store_disk_mb]} MB on disk. Then
${R[finish_n]} more turns, alternated with the anchor: a plain sled database with the same number
of records of the same sizes (filled in ${R[anchor_fill_secs]} s without per-write flushes), where
each sample inserts the same two records and flushes.

| | p50 | p99 | max |
| --- | --- | --- | --- |
| \`finish_turn\` (durable on return) | ${R[finish_p50_ms]} ms | ${R[finish_p99_ms]} ms | ${R[finish_max_ms]} ms |
| \`begin_turn\` | ${R[begin_p50_ms]} ms | ${R[begin_p99_ms]} ms | ${R[begin_max_ms]} ms |
| sled insert ×2 + flush (anchor) | ${R[sled_anchor_p50_ms]} ms | ${R[sled_anchor_p99_ms]} ms | ${R[sled_anchor_max_ms]} ms |

**Hook path.** The bench process holds that store and runs a hook bridge with a recorder, as a
\`ccx\` session does; a session transcript already holds $TRANSCRIPT_TURNS turns
(${R[hook_transcript_bytes]} bytes at the end). For each of ${R[hook_exit_n]} turns (after a first
one, reported apart): append the user line, run \`ccx __hook\` with a \`UserPromptSubmit\` payload,
append the assistant line, then run \`ccx __hook\` with a \`Stop\` payload on stdin and time (a)
until the hook process exits (what Claude Code waits on) and (b) until the recorder has stored the
finished turn (read from the transcript, flushed). Anchor: \`/bin/true\` started the same way with
the same payload. Last turn stored with the right reply: ${R[hook_recorded_ok]}.

| | p50 | p99 | max |
| --- | --- | --- | --- |
| \`ccx __hook\` until exit | ${R[hook_exit_p50_ms]} ms | ${R[hook_exit_p99_ms]} ms | ${R[hook_exit_max_ms]} ms |
| Stop hook → turn durable | ${R[hook_durable_p50_ms]} ms | ${R[hook_durable_p99_ms]} ms | ${R[hook_durable_max_ms]} ms |
| \`/bin/true\` until exit (anchor) | ${R[true_exit_p50_ms]} ms | ${R[true_exit_p99_ms]} ms | ${R[true_exit_max_ms]} ms |

The first Stop of the session: ${R[hook_first_exit_ms]} ms until the hook exited,
${R[hook_first_durable_ms]} ms until durable.

**Idle RSS.** Each command runs in a PTY owned by the driver; after 2 s its \`VmRSS\` is read
from \`/proc/PID/status\` (ccx's own process, not its child), then it is sent SIGTERM.
The sessions run \`ccx\` with \`CCX_CLAUDE\` set to a script that runs \`sleep 30\`, so ccx opens
the project's store, starts the hook bridge and the recorder.

| | VmRSS | VmHWM | threads |
| --- | --- | --- | --- |
| \`ccx exec -- sleep 30\` | $(kb_mb "${R[exec_rss_kb]}") MB | $(kb_mb "${R[exec_hwm_kb]}") MB | ${R[exec_threads]} |
| \`ccx\` session, empty store | $(kb_mb "${R[session_rss_kb]}") MB | $(kb_mb "${R[session_hwm_kb]}") MB | ${R[session_threads]} |
| \`ccx\` session, ${R[fill_turns]}-turn store | $(kb_mb "${R[session_full_rss_kb]}") MB | $(kb_mb "${R[session_full_hwm_kb]}") MB | ${R[session_full_threads]} |

**Fork.** A fresh store (through the library, as its owner) holds a branch of ${R[fork_turns]}
turns (filled in ${R[fork_fill_secs]} s) whose turns each carry $FORK_LINES transcript lines shaped
like Claude Code 2.1.330's (the prompt, a Read tool use, its tool result, the reply; uuid /
parentUuid / sessionId; ${R[fork_line_bytes]} bytes a line on average). Each sample does what
\`:branch\` and \`:rewind\` do before they restart claude, after the branch's last turn:
\`Controller::rebuild_session\` needs a running session (a PTY proxy, a recorder), so the driver
repeats its steps with the same public functions: walk the parent links to the root
(\`store.turn\` per turn), read every turn's entries (\`store.entries\`), write the new transcript
(\`transcript::write_transcript\`: ${R[fork_lines]} lines, ${R[fork_mb]} MB, fsynced, renamed into
place), then store the new branch (\`store.create_branch\`). Then the same through a client
\`Store\` (a second \`Store::open\` of the same store while the first holds it, as a second ccx
session would: every call goes over the owner's socket). Alternated with the anchor:
\`std::fs::copy\` of a file holding the same bytes (without and with an fsync).
${R[fork_owner_n]} samples each.

| | p50 | max | walk the chain | read the entries | write the transcript | create the branch |
| --- | --- | --- | --- | --- | --- | --- |
| owner | ${R[fork_owner_p50_ms]} ms | ${R[fork_owner_max_ms]} ms | ${R[fork_owner_chain_p50_ms]} ms | ${R[fork_owner_entries_p50_ms]} ms | ${R[fork_owner_write_p50_ms]} ms | ${R[fork_owner_branch_p50_ms]} ms |
| client | ${R[fork_client_p50_ms]} ms | ${R[fork_client_max_ms]} ms | ${R[fork_client_chain_p50_ms]} ms | ${R[fork_client_entries_p50_ms]} ms | ${R[fork_client_write_p50_ms]} ms | ${R[fork_client_branch_p50_ms]} ms |
| \`fs::copy\` (anchor) | ${R[fork_copy_p50_ms]} ms | ${R[fork_copy_max_ms]} ms | | | | |
| \`fs::copy\` + fsync (anchor) | ${R[fork_copy_sync_p50_ms]} ms | ${R[fork_copy_sync_max_ms]} ms | | | | |

(Phases are the p50 of each phase on its own.)

**Search.** \`ccx search WORD --json\` (the binary: process start, store open as its owner, the
scan of every turn's search text in the search log beside the store for the query words, the
candidates' turn records, matching them, the JSON out to
\`/dev/null\`) in the project whose store the store step
filled (${R[search_quixotic_turns]} turns; the prompts name one of 20 source files and one of 40
functions, one reply in 1000 holds "quixotic"; every turn also stores a Bash call and its
three-line output, one output in 1000 holds "segfault"), $SEARCH_RUNS runs each after a warm-up,
median. \`ccx search\` looks in prompts, replies and tool calls (deep search, the default).
Anchor: \`grep -c -i WORD\` over a file holding the same prompts, replies, commands and outputs
(${R[search_text_mb]} MB). The in-process phases (the driver calls \`Store::open\`,
\`deep_search_candidates\` (the search log: prompt, reply, tool calls) or, in the rows marked
"prompt and reply", \`search_candidates\` (the turn records), \`search::Matcher\` +
\`search::search_docs\`, and renders the JSON the command prints), medians:

| word | hits | \`ccx search\` runs | \`grep -ci\` | open the store | load the candidates | match | render JSON |
| --- | --- | --- | --- | --- | --- | --- | --- |
| quixotic | ${R[search_quixotic_deep_hits]} | ${R[search_quixotic_ccx_all]}ms | ${R[search_quixotic_grep_ms]} ms | ${R[search_quixotic_deep_open_ms]} ms | ${R[search_quixotic_deep_load_ms]} ms (${R[search_quixotic_deep_candidates]} turns) | ${R[search_quixotic_deep_match_ms]} ms | ${R[search_quixotic_deep_json_ms]} ms (${R[search_quixotic_deep_json_bytes]} bytes) |
| parser | ${R[search_parser_deep_hits]} | ${R[search_parser_ccx_all]}ms | ${R[search_parser_grep_ms]} ms | ${R[search_parser_deep_open_ms]} ms | ${R[search_parser_deep_load_ms]} ms (${R[search_parser_deep_candidates]} turns) | ${R[search_parser_deep_match_ms]} ms | ${R[search_parser_deep_json_ms]} ms (${R[search_parser_deep_json_bytes]} bytes) |
| segfault | ${R[search_segfault_deep_hits]} | ${R[search_segfault_ccx_all]}ms | ${R[search_segfault_grep_ms]} ms | ${R[search_segfault_deep_open_ms]} ms | ${R[search_segfault_deep_load_ms]} ms (${R[search_segfault_deep_candidates]} turns) | ${R[search_segfault_deep_match_ms]} ms | ${R[search_segfault_deep_json_ms]} ms (${R[search_segfault_deep_json_bytes]} bytes) |
| quixotic, prompt and reply | ${R[search_quixotic_hits]} | ${R[search_quixotic_ccx_all]}ms | ${R[search_quixotic_grep_ms]} ms | ${R[search_quixotic_open_ms]} ms | ${R[search_quixotic_load_ms]} ms (${R[search_quixotic_candidates]} turns) | ${R[search_quixotic_match_ms]} ms | ${R[search_quixotic_json_ms]} ms (${R[search_quixotic_json_bytes]} bytes) |
| parser, prompt and reply | ${R[search_parser_hits]} | ${R[search_parser_ccx_all]}ms | ${R[search_parser_grep_ms]} ms | ${R[search_parser_open_ms]} ms | ${R[search_parser_load_ms]} ms (${R[search_parser_candidates]} turns) | ${R[search_parser_match_ms]} ms | ${R[search_parser_json_ms]} ms (${R[search_parser_json_bytes]} bytes) |

**Import.** A generated Claude Code 2.1.330-style transcript of ${R[import_mb]} MB
(${R[tr_lines]} lines, ${R[tr_turns]} turns of 10 lines: a file-history snapshot, the prompt, an
environment attachment, a Read tool use and its result of a 60-line file, an Edit tool use and
its result, the reply, the stop-hook summary and the turn duration), imported with
\`ccx import FILE\` into a fresh data directory (\`CCX_DATA_DIR\`); $IMPORT_RUNS run(s):
${R[import_all]}s, ${R[import_status]}; ${R[import_turns]} turns imported; the store then took
${R[import_store_mb]} MB. Anchors on the same file: \`wc -l\` ${R[import_wc_ms]} ms; reading it and
parsing every line with serde_json (in the driver, one thread) ${R[parse_secs]} s. Importing the
same file again into the last run's store: ${R[reimport_secs]} s (\`${R[reimport_said]}\`). The
pure parts of the import on the same file, in the driver: \`transcript::read_transcript_keeping\`
${R[read_transcript_secs]} s (on every core, keeping each line's text), \`import::into_conversations\` +
\`import::plan_turns_owned\` ${R[owned_plan_secs]} s (${R[planned_turns]} turns), joining every
turn's lines, as read, into its entries ${R[encode_secs]} s and the tiktoken estimates ${R[estimate_secs]} s (these
two run on a second thread while the first writes the batches before them).

**Export.** A branch of ${R[export_turns]} turns (filled in ${R[export_fill_secs]} s into the fork
step's store; a prompt of about 140 bytes and a reply of about 1.5 KB with a code block each),
exported with \`ccx export export --format md|json|html -o FILE --force\` (html also reads every
turn's transcript entries for its tool calls, and the project's branches) (process start, store open,
the branch's lineage, rendering, writing the file with an fsync), $EXPORT_RUNS runs each after a
warm-up, median. Anchors: \`cp FILE COPY\` and \`cat FILE >COPY\` of the file it wrote (no fsync).

| format | size | \`ccx export\` runs | \`cp\` | \`cat\` |
| --- | --- | --- | --- | --- |
| md | ${R[export_md_mb]} MB | ${R[export_md_ccx_all]}ms | ${R[export_md_cp_ms]} ms | ${R[export_md_cat_ms]} ms |
| json | ${R[export_json_mb]} MB | ${R[export_json_ccx_all]}ms | ${R[export_json_cp_ms]} ms | ${R[export_json_cat_ms]} ms |
| html | ${R[export_html_mb]} MB | ${R[export_html_ccx_all]}ms | ${R[export_html_cp_ms]} ms | ${R[export_html_cat_ms]} ms |

**Archive.** ${R[archive_files]} generated Claude Code session transcripts (3 turns each,
${R[archive_mb]} MB in all) in ${R[archive_projects]} projects, written two hours before (so none
counts as in use). The first \`ccx archive\` imported them all in ${R[archive_first_secs]} s
(\`${R[archive_first_said]}\`); then, with nothing new, ${ARCHIVE_RUNS} runs after a warm-up:
${R[archive_again_all]}ms (\`${R[archive_again_said]}\`): process start, the run lock, reading
\`archive.json\`, listing the projects folder and one \`stat\` per transcript. Anchor: \`find\`
printing the size and modification time of the same files, ${R[archive_stat_all]}ms.
EOF
)

# ---- effects journal (its own script, which also runs alone) ------------------------------
echo "bench.sh: effects journal..." >&2
effects_section=$(BENCH_EFFECTS_ALONE=0 BENCH_OUT=- \
  BENCH_EFFECTS_CALLS="${BENCH_EFFECTS_CALLS:-$([ "$quick" = 1 ] && echo 30 || echo 100)}" \
  timeout -k 5 1800 "$root/scripts/bench-effects.sh" "$CCX") \
  || effects_section="(scripts/bench-effects.sh failed in this run)"
report+=$'\n\n'"$effects_section"

printf '%s\n' "$report"
if [ "$OUT" != "-" ]; then
  mkdir -p "$(dirname "$OUT")"
  # Notes written by hand (from the `notes:begin` line to the end) are kept, below the new figures.
  notes=""
  [ -f "$OUT" ] && notes="$(sed -n '/^<!-- notes:begin/,$p' "$OUT")"
  printf '%s\n' "$report" >"$OUT"
  [ -z "$notes" ] || printf '\n%s\n' "$notes" >>"$OUT"
  echo "bench.sh: wrote $OUT (measuring took ${elapsed} s)" >&2
fi
