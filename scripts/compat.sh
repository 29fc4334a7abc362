#!/usr/bin/env bash
# The Claude Code version matrix: installs each version into the git-ignored .cache folder
# (through scripts/install-claude.sh), runs the end-to-end core checks against it, and writes
# docs/compat.md (a table of versions x checks, one row per version with the date it ran).
#
#   scripts/compat.sh                 the pinned version plus the three newest published
#   scripts/compat.sh 2.1.331 2.1.332 just these versions
#
# Rows of versions not run this time are kept. Not part of the default test command: it
# downloads each version (about 370 MB). Exits non-zero when any check failed; the log of a
# failed check is kept under .cache/compat/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Each check: label|test binary|test name.
checks=(
  "turn recorded, exact tokens|e2e_core|two_prompts_are_recorded_exactly_and_exit_is_clean"
  "\`:\` opens the editor|e2e_shell|colon_opens_the_editor_and_esc_restores_claudes_screen_exactly"
  "\`:\` after every restart, tmux replies|e2e_input|colon_opens_the_editor_everywhere_in_tmux"
  "status line|e2e_shell|the_status_line_shows_branch_turn_and_context"
  "\`:rewind\` + \`:checkout\` history|e2e_branches|rewind_checkout_and_rebuild_after_transcripts_are_gone"
  "\`:subagent\` + \`:pull\`|e2e_handoffs|a_subagent_runs_clean_and_pull_brings_back_only_its_report"
  "update mid-session, \`:branch\`|e2e_update|an_update_under_a_running_session_is_used_at_the_next_branch"
  "Claude's \`/branch\` + rewind menu|e2e_fidelity|native_branch_and_rewind_menu_land_in_the_tree_where_claude_is"
)

pinned="$(sed -n 's/^CLAUDE_CODE_VERSION="\${CLAUDE_CODE_VERSION:-\([^}]*\)}"$/\1/p' scripts/install-claude.sh)"
[ -n "$pinned" ] || { echo "compat.sh: cannot read the pinned version from scripts/install-claude.sh" >&2; exit 1; }

if [ "$#" -gt 0 ]; then
  versions=("$@")
else
  newest="$(npm view @anthropic-ai/claude-code versions --json |
    tr -d '[]", ' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 3)"
  [ -n "$newest" ] || { echo "compat.sh: cannot list the published versions" >&2; exit 1; }
  mapfile -t versions < <(printf '%s\n' "$pinned" $newest | sort -uV)
fi

logs="$root/.cache/compat"
mkdir -p "$logs"
# Build once; run the test executables themselves (a check is one test of one binary).
declare -A exe
while read -r binary path; do
  exe["$binary"]="$path"
done < <(cargo test --locked --no-run 2>&1 |
  sed -n 's|^ *Executable tests/\([a-z0-9_]*\)\.rs (\(.*\))$|\1 \2|p')

today="$(date -u +%Y-%m-%d)"
declare -A rows notes
failed=0
for version in "${versions[@]}"; do
  CLAUDE_CODE_VERSION="$version" scripts/install-claude.sh >/dev/null
  row="| $version | $today |"
  for check in "${checks[@]}"; do
    IFS='|' read -r label binary test <<<"$check"
    log="$logs/$version-$test.log"
    printf '%-8s %-70s ' "$version" "$test" >&2
    if [ -z "${exe[$binary]:-}" ]; then
      echo "compat.sh: no test binary $binary" >&2
      exit 1
    fi
    if CCX_TEST_CLAUDE_VERSION="$version" "${exe[$binary]}" --exact "$test" --nocapture \
      >"$log" 2>&1 && grep -q '^test result: ok. 1 passed' "$log"; then
      echo "pass" >&2
      row+=" pass |"
      sed -n 's/^ccx-compat-unknown: //p' "$log" >>"$logs/$version-unknown"
      rm -f "$log"
    else
      echo "FAIL (log: $log)" >&2
      row+=" FAIL |"
      failed=1
    fi
  done
  rows["$version"]="$row"
  found="$(sort -u "$logs/$version-unknown" 2>/dev/null | paste -sd ';' | sed 's/;/, /g')"
  rm -f "$logs/$version-unknown"
  notes["$version"]="- $version: ${found:-nothing}"
done

# Keep the rows of versions not run now (when they were made with the same checks).
out="docs/compat.md"
header="| Claude Code | tested |"
rule="| --- | --- |"
for check in "${checks[@]}"; do
  IFS='|' read -r label _ _ <<<"$check"
  header+=" $label |"
  rule+=" --- |"
done
if [ -f "$out" ] && grep -qxF "$header" "$out"; then
  while IFS= read -r line; do
    version="$(sed -n 's/^| \([0-9][0-9.]*\) |.*/\1/p' <<<"$line")"
    if [ -n "$version" ] && [ -z "${rows[$version]+set}" ]; then
      rows["$version"]="$line"
    fi
    version="$(sed -n 's/^- \([0-9][0-9.]*\): .*/\1/p' <<<"$line")"
    if [ -n "$version" ] && [ -z "${notes[$version]+set}" ]; then
      notes["$version"]="$line"
    fi
  done <"$out"
fi

{
  echo "# Claude Code versions ccx is tested with"
  echo
  echo "Written by \`scripts/compat.sh\`, which installs each Claude Code version and runs ccx's"
  echo "end-to-end core checks against it (the real CLI, offline, against the test stand-in for"
  echo "the Messages API). \`ccx doctor\` compares the Claude Code you run with the newest version"
  echo "here whose checks all pass. Pinned version (the one the test suite uses): $pinned."
  echo
  echo "$header"
  echo "$rule"
  for version in $(printf '%s\n' "${!rows[@]}" | sort -rV); do
    echo "${rows[$version]}"
  done
  echo
  echo "What each version sent during the checks that ccx does not know (ignored, recording went"
  echo "on; \`ccx doctor\` lists what it meets on your machine):"
  echo
  for version in $(printf '%s\n' "${!notes[@]}" | sort -rV); do
    echo "${notes[$version]}"
  done
  echo
  echo "Checks (test binary and name under \`tests/\`):"
  echo
  for check in "${checks[@]}"; do
    IFS='|' read -r label binary test <<<"$check"
    echo "- $label: \`$binary::$test\`"
  done
} >"$out"
echo "wrote $out" >&2
exit "$failed"
