#compdef ccx

autoload -U is-at-least

_ccx() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
":: :_ccx_commands" \
"*::: :->ccx" \
&& ret=0
    case $state in
    (ccx)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:ccx-command-$line[1]:"
        case $line[1] in
            (log)
_arguments "${_arguments_options[@]}" : \
'-b+[Branch to list]:BRANCH:_default' \
'--branch=[Branch to list]:BRANCH:_default' \
'-n+[Show at most N turns (the latest)]:LIMIT:_default' \
'--limit=[Show at most N turns (the latest)]:LIMIT:_default' \
'--all[Every project, not only this directory'\''s]' \
'--json[Print the turn records as a JSON array]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(show)
_arguments "${_arguments_options[@]}" : \
'--json[]' \
'-h[Print help]' \
'--help[Print help]' \
':turn:_default' \
&& ret=0
;;
(tree)
_arguments "${_arguments_options[@]}" : \
'--json[]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(sessions)
_arguments "${_arguments_options[@]}" : \
'--json[]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(doctor)
_arguments "${_arguments_options[@]}" : \
'--json[]' \
'--repair[Recover a damaged turn log\: keep every intact turn in a fresh one, the damaged copy aside]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(exec)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'*::command -- The program and its arguments:_default' \
&& ret=0
;;
(search)
_arguments "${_arguments_options[@]}" : \
'--in=[Where to look\: prompt, reply, tools, comma-separated (default\: all three)]:FIELDS:_default' \
'--branch=[Only the turns of BRANCH'\''s conversation]:BRANCH:_default' \
'--since=[Only turns started since a date (2026-01-31), a time, or a duration ago (90m, 3d)]:WHEN:_default' \
'--regex[QUERY is one regular expression (case-insensitive)]' \
'--all[Every project, not only this directory'\''s]' \
'--json[Print the matching turn records as a JSON array]' \
'-h[Print help]' \
'--help[Print help]' \
'*::query -- The words to look for (with --regex\: one regular expression):_default' \
&& ret=0
;;
(export)
_arguments "${_arguments_options[@]}" : \
'--format=[md, json or html (default\: from the file'\''s extension, else md)]:FORMAT:(md markdown json html)' \
'-o+[Write to FILE instead of standard output]:FILE:_files' \
'--output=[Write to FILE instead of standard output]:FILE:_files' \
'--redact[Mask API keys, tokens, private keys and secret-looking assignments]' \
'--force[Overwrite FILE without asking]' \
'-h[Print help]' \
'--help[Print help]' \
'::branch -- Branch to export:_default' \
&& ret=0
;;
(import)
_arguments "${_arguments_options[@]}" : \
'--all[Every Claude Code session of this project]' \
'--include-deleted[Also bring back turns whose branches were deleted since they were imported]' \
'-h[Print help]' \
'--help[Print help]' \
'::path -- A session transcript (~/.claude/projects/<dir>/<session>.jsonl):_files' \
&& ret=0
;;
(archive)
_arguments "${_arguments_options[@]}" : \
'--again[Look at every transcript again, not only new or grown ones]' \
'--json[Print what was done as JSON]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(bisect)
_arguments "${_arguments_options[@]}" : \
'--good=[A turn whose code passes the test (12, #12, HEAD~N, BRANCH~N)]:TURN:_default' \
'--bad=[A later turn of the same conversation whose code fails it]:TURN:_default' \
'--timeout=[Stop a run of the test that takes longer than SECS seconds]:SECS:_default' \
'-h[Print help]' \
'--help[Print help]' \
'*::command -- The test command and its arguments (after --):_default' \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
'--json[Print the comparison as JSON]' \
'-h[Print help]' \
'--help[Print help]' \
':a -- First branch:_default' \
':b -- Second branch:_default' \
&& ret=0
;;
(replay)
_arguments "${_arguments_options[@]}" : \
'--from=[First turn to replay (12, #12, BRANCH~N; default\: the first)]:FROM:_default' \
'--to=[Last turn to replay (default\: the branch'\''s head)]:TO:_default' \
'--model=[Model for the replay (passed to claude --model)]:MODEL:_default' \
'--timeout=[Stop a turn that takes longer than SECS seconds]:SECS:_default' \
'-h[Print help]' \
'--help[Print help]' \
':branch -- Branch to replay:_default' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
':shell -- The shell to complete for:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::topic -- A subcommand (log, show, ...) or a meta-command (\:branch, \:rewind, ...):((log\:"List the turns of a branch (default\: the current one)"
show\:"Show one turn in full\: 12, #12, HEAD, HEAD~N, BRANCH, BRANCH~N"
tree\:"All branches as a tree with their fork points"
sessions\:"The project'\''s branches and Claude sessions\: turns, tokens, last activity"
doctor\:"Find claude, check the hooks fire and the store opens, and say what is wrong"
exec\:"Run a program through the same PTY proxy, with no Claude integration, recording nothing"
search\:"Find turns whose prompt, reply or tool calls hold every word of QUERY (case-insensitive)"
export\:"Write a branch'\''s conversation out as Markdown, JSON or HTML (default\: the current branch)"
import\:"Bring Claude Code sessions made without ccx into the log, as branches"
archive\:"Keep every project'\''s Claude Code sessions in ccx'\''s log before Claude Code deletes them"
bisect\:"Find the first turn whose code fails a test, from the turns'\'' code snapshots"
diff\:"Where two branches part, and their turns and outcomes side by side"
replay\:"Send a branch'\''s prompts, one turn at a time, into a fresh headless session on a new branch"
completions\:"Print a shell completion script (bash, zsh, fish, elvish, powershell)"
man\:"Print ccx'\''s man page (roff)\: ccx man | man -l -"
\:help\:"list the commands, or one in full"
\:log\:"a branch'\''s turns\: id, age, context, prompt → reply"
\:show\:"one turn in full"
\:tree\:"all branches as a tree with their fork points"
\:context\:"context used, rot zone, largest turns, advice"
\:branch\:"fork a new branch after TURN and switch to it"
\:checkout\:"switch to a branch; --code also restores its files"
\:rewind\:"fork after TURN (default HEAD~1), send PROMPT"
\:summarize-from-here\:"Claude writes a handoff since TURN (a brief)"
\:brief\:"fresh session on a new branch, seeded with a brief"
\:clear\:"fresh session on a new branch, no brief"
\:compact\:"forward /compact FOCUS (asks for one if none)"
\:subagent\:"run TASK in a clean Claude in the background"
\:pull\:"send a finished subagent'\''s report here"
\:jobs\:"subagent jobs with their state"
\:kill\:"stop a subagent job"
\:replay\:"replay BRANCH'\''s prompts into a fresh session"
\:merge\:"bring what BRANCH learned here as one turn"
\:btw\:"a side question answered by a fork; kept as an aside"
\:diff\:"where two branches part, outcomes side by side"
\:sessions\:"branches and sessions\: turns, tokens, last activity"
\:rename\:"rename a branch"
\:delete\:"delete a branch (asks; never the current one)"
\:export\:"write a branch out"
\:version\:"ccx'\''s version and Claude Code'\''s"
\:quit\:"end Claude and ccx"))' \
&& ret=0
;;
        esac
    ;;
esac
}

(( $+functions[_ccx_commands] )) ||
_ccx_commands() {
    local commands; commands=(
'log:List the turns of a branch (default\: the current one)' \
'show:Show one turn in full\: 12, #12, HEAD, HEAD~N, BRANCH, BRANCH~N' \
'tree:All branches as a tree with their fork points' \
'sessions:The project'\''s branches and Claude sessions\: turns, tokens, last activity' \
'doctor:Find claude, check the hooks fire and the store opens, and say what is wrong' \
'exec:Run a program through the same PTY proxy, with no Claude integration, recording nothing' \
'search:Find turns whose prompt, reply or tool calls hold every word of QUERY (case-insensitive)' \
'export:Write a branch'\''s conversation out as Markdown, JSON or HTML (default\: the current branch)' \
'import:Bring Claude Code sessions made without ccx into the log, as branches' \
'archive:Keep every project'\''s Claude Code sessions in ccx'\''s log before Claude Code deletes them' \
'bisect:Find the first turn whose code fails a test, from the turns'\'' code snapshots' \
'diff:Where two branches part, and their turns and outcomes side by side' \
'replay:Send a branch'\''s prompts, one turn at a time, into a fresh headless session on a new branch' \
'completions:Print a shell completion script (bash, zsh, fish, elvish, powershell)' \
'man:Print ccx'\''s man page (roff)\: ccx man | man -l -' \
'help:Show ccx'\''s usage, a subcommand'\''s help, or a meta-command in full (\`ccx help \:rewind\`)' \
    )
    _describe -t commands 'ccx commands' commands "$@"
}
(( $+functions[_ccx__subcmd__archive_commands] )) ||
_ccx__subcmd__archive_commands() {
    local commands; commands=()
    _describe -t commands 'ccx archive commands' commands "$@"
}
(( $+functions[_ccx__subcmd__bisect_commands] )) ||
_ccx__subcmd__bisect_commands() {
    local commands; commands=()
    _describe -t commands 'ccx bisect commands' commands "$@"
}
(( $+functions[_ccx__subcmd__completions_commands] )) ||
_ccx__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'ccx completions commands' commands "$@"
}
(( $+functions[_ccx__subcmd__diff_commands] )) ||
_ccx__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'ccx diff commands' commands "$@"
}
(( $+functions[_ccx__subcmd__doctor_commands] )) ||
_ccx__subcmd__doctor_commands() {
    local commands; commands=()
    _describe -t commands 'ccx doctor commands' commands "$@"
}
(( $+functions[_ccx__subcmd__exec_commands] )) ||
_ccx__subcmd__exec_commands() {
    local commands; commands=()
    _describe -t commands 'ccx exec commands' commands "$@"
}
(( $+functions[_ccx__subcmd__export_commands] )) ||
_ccx__subcmd__export_commands() {
    local commands; commands=()
    _describe -t commands 'ccx export commands' commands "$@"
}
(( $+functions[_ccx__subcmd__help_commands] )) ||
_ccx__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'ccx help commands' commands "$@"
}
(( $+functions[_ccx__subcmd__import_commands] )) ||
_ccx__subcmd__import_commands() {
    local commands; commands=()
    _describe -t commands 'ccx import commands' commands "$@"
}
(( $+functions[_ccx__subcmd__log_commands] )) ||
_ccx__subcmd__log_commands() {
    local commands; commands=()
    _describe -t commands 'ccx log commands' commands "$@"
}
(( $+functions[_ccx__subcmd__man_commands] )) ||
_ccx__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'ccx man commands' commands "$@"
}
(( $+functions[_ccx__subcmd__replay_commands] )) ||
_ccx__subcmd__replay_commands() {
    local commands; commands=()
    _describe -t commands 'ccx replay commands' commands "$@"
}
(( $+functions[_ccx__subcmd__search_commands] )) ||
_ccx__subcmd__search_commands() {
    local commands; commands=()
    _describe -t commands 'ccx search commands' commands "$@"
}
(( $+functions[_ccx__subcmd__sessions_commands] )) ||
_ccx__subcmd__sessions_commands() {
    local commands; commands=()
    _describe -t commands 'ccx sessions commands' commands "$@"
}
(( $+functions[_ccx__subcmd__show_commands] )) ||
_ccx__subcmd__show_commands() {
    local commands; commands=()
    _describe -t commands 'ccx show commands' commands "$@"
}
(( $+functions[_ccx__subcmd__tree_commands] )) ||
_ccx__subcmd__tree_commands() {
    local commands; commands=()
    _describe -t commands 'ccx tree commands' commands "$@"
}

if [ "$funcstack[1]" = "_ccx" ]; then
    _ccx "$@"
else
    compdef _ccx ccx
fi
