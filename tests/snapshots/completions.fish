# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ccx_global_optspecs
    string join \n h/help
end

function __fish_ccx_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ccx_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ccx_using_subcommand
    set -l cmd (__fish_ccx_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ccx -n "__fish_ccx_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "log" -d 'List the turns of a branch (default: the current one)'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "show" -d 'Show one turn in full: 12, #12, HEAD, HEAD~N, BRANCH, BRANCH~N'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "tree" -d 'All branches as a tree with their fork points'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "sessions" -d 'The project\'s branches and Claude sessions: turns, tokens, last activity'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "doctor" -d 'Find claude, check the hooks fire and the store opens, and say what is wrong'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "exec" -d 'Run a program through the same PTY proxy, with no Claude integration, recording nothing'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "search" -d 'Find turns whose prompt, reply or tool calls hold every word of QUERY (case-insensitive)'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "export" -d 'Write a branch\'s conversation out as Markdown, JSON or HTML (default: the current branch)'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "import" -d 'Bring Claude Code sessions made without ccx into the log, as branches'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "archive" -d 'Keep every project\'s Claude Code sessions in ccx\'s log before Claude Code deletes them'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "bisect" -d 'Find the first turn whose code fails a test, from the turns\' code snapshots'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "diff" -d 'Where two branches part, and their turns and outcomes side by side'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "replay" -d 'Send a branch\'s prompts, one turn at a time, into a fresh headless session on a new branch'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "man" -d 'Print ccx\'s man page (roff): ccx man | man -l -'
complete -c ccx -n "__fish_ccx_needs_command" -f -a "help" -d 'Show ccx\'s usage, a subcommand\'s help, or a meta-command in full (`ccx help :rewind`)'
complete -c ccx -n "__fish_ccx_using_subcommand log" -s b -l branch -d 'Branch to list' -r
complete -c ccx -n "__fish_ccx_using_subcommand log" -s n -l limit -d 'Show at most N turns (the latest)' -r
complete -c ccx -n "__fish_ccx_using_subcommand log" -l all -d 'Every project, not only this directory\'s'
complete -c ccx -n "__fish_ccx_using_subcommand log" -l json -d 'Print the turn records as a JSON array'
complete -c ccx -n "__fish_ccx_using_subcommand log" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand show" -l json
complete -c ccx -n "__fish_ccx_using_subcommand show" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand tree" -l json
complete -c ccx -n "__fish_ccx_using_subcommand tree" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand sessions" -l json
complete -c ccx -n "__fish_ccx_using_subcommand sessions" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand doctor" -l json
complete -c ccx -n "__fish_ccx_using_subcommand doctor" -l repair -d 'Recover a damaged turn log: keep every intact turn in a fresh one, the damaged copy aside'
complete -c ccx -n "__fish_ccx_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand exec" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand search" -l in -d 'Where to look: prompt, reply, tools, comma-separated (default: all three)' -r
complete -c ccx -n "__fish_ccx_using_subcommand search" -l branch -d 'Only the turns of BRANCH\'s conversation' -r
complete -c ccx -n "__fish_ccx_using_subcommand search" -l since -d 'Only turns started since a date (2026-01-31), a time, or a duration ago (90m, 3d)' -r
complete -c ccx -n "__fish_ccx_using_subcommand search" -l regex -d 'QUERY is one regular expression (case-insensitive)'
complete -c ccx -n "__fish_ccx_using_subcommand search" -l all -d 'Every project, not only this directory\'s'
complete -c ccx -n "__fish_ccx_using_subcommand search" -l json -d 'Print the matching turn records as a JSON array'
complete -c ccx -n "__fish_ccx_using_subcommand search" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand export" -l format -d 'md, json or html (default: from the file\'s extension, else md)' -r -f -a "md\t''
markdown\t''
json\t''
html\t''"
complete -c ccx -n "__fish_ccx_using_subcommand export" -s o -l output -d 'Write to FILE instead of standard output' -r -F
complete -c ccx -n "__fish_ccx_using_subcommand export" -l redact -d 'Mask API keys, tokens, private keys and secret-looking assignments'
complete -c ccx -n "__fish_ccx_using_subcommand export" -l force -d 'Overwrite FILE without asking'
complete -c ccx -n "__fish_ccx_using_subcommand export" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand import" -l all -d 'Every Claude Code session of this project'
complete -c ccx -n "__fish_ccx_using_subcommand import" -l include-deleted -d 'Also bring back turns whose branches were deleted since they were imported'
complete -c ccx -n "__fish_ccx_using_subcommand import" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand archive" -l again -d 'Look at every transcript again, not only new or grown ones'
complete -c ccx -n "__fish_ccx_using_subcommand archive" -l json -d 'Print what was done as JSON'
complete -c ccx -n "__fish_ccx_using_subcommand archive" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand bisect" -l good -d 'A turn whose code passes the test (12, #12, HEAD~N, BRANCH~N)' -r
complete -c ccx -n "__fish_ccx_using_subcommand bisect" -l bad -d 'A later turn of the same conversation whose code fails it' -r
complete -c ccx -n "__fish_ccx_using_subcommand bisect" -l timeout -d 'Stop a run of the test that takes longer than SECS seconds' -r
complete -c ccx -n "__fish_ccx_using_subcommand bisect" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand diff" -l json -d 'Print the comparison as JSON'
complete -c ccx -n "__fish_ccx_using_subcommand diff" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand replay" -l from -d 'First turn to replay (12, #12, BRANCH~N; default: the first)' -r
complete -c ccx -n "__fish_ccx_using_subcommand replay" -l to -d 'Last turn to replay (default: the branch\'s head)' -r
complete -c ccx -n "__fish_ccx_using_subcommand replay" -l model -d 'Model for the replay (passed to claude --model)' -r
complete -c ccx -n "__fish_ccx_using_subcommand replay" -l timeout -d 'Stop a turn that takes longer than SECS seconds' -r
complete -c ccx -n "__fish_ccx_using_subcommand replay" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand completions" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand man" -s h -l help -d 'Print help'
complete -c ccx -n "__fish_ccx_using_subcommand help" -s h -l help -d 'Print help (see more with \'--help\')'
