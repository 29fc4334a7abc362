//! The command line: ccx subcommands (reserved words) parsed by clap; everything else,
//! except `--ccx-*` options, goes to claude unchanged. Also ccx's help text (shown by
//! `ccx --help`, `ccx help`, completions and the man page), all built from one clap command.

use clap::{CommandFactory, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// Words that select a ccx subcommand when they come first.
pub const SUBCOMMANDS: &[&str] = &[
    "log",
    "show",
    "tree",
    "search",
    "export",
    "import",
    "archive",
    "bisect",
    "replay",
    "diff",
    "sessions",
    "exec",
    "doctor",
    "completions",
    "man",
    "help",
    "effects",
    "restore",
    "undo",
    "history",
];

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Run claude through the proxy and record it.
    Claude {
        claude: Option<PathBuf>,
        args: Vec<OsString>,
    },
    /// A ccx subcommand.
    Command(Command),
    /// A hook of ours, called by Claude Code with the payload on stdin.
    Hook,
    /// The effects journal's tool hook (`ccx __effects`), payload on stdin.
    EffectsHook,
    /// Our status line, called by Claude Code with the payload on stdin.
    Status,
    /// `ccx __remember-claude PATH`, run by scripts/run.sh after installing Claude Code.
    RememberClaude(PathBuf),
    /// `ccx --help` / `-h`: ccx's help, then Claude's.
    Help { claude: Option<PathBuf> },
    /// `ccx --version` / `-V` / `-v`: ccx's version and Claude's.
    Version { claude: Option<PathBuf> },
    /// `ccx WORD` where WORD is one word close to a ccx subcommand: ask before Claude gets it.
    NearSubcommand {
        word: String,
        suggestion: &'static str,
        claude: Option<PathBuf>,
    },
}

#[derive(Debug, Parser)]
#[command(
    name = "ccx",
    version,
    about = "Claude Code with a turn log, branches and context commands",
    long_about = "Claude Code with a turn log, branches and context commands.\n\n\
                  ccx runs Claude Code inside a PTY proxy, records every turn (prompt, reply,\n\
                  tokens, timing, files) per project, and adds meta-commands typed inside the\n\
                  session. Every argument that is not a ccx subcommand or a --ccx-* option goes\n\
                  to claude unchanged. The subcommands below read and manage the turn log.",
    override_usage = "ccx [--ccx-claude PATH] [CLAUDE ARGS]...   Claude Code, recorded\n       \
                      ccx -- [CLAUDE ARGS]...                    pass everything to claude verbatim\n       \
                      ccx <COMMAND> [OPTIONS]                    read and manage the turn log",
    disable_version_flag = true,
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the turns of a branch (default: the current one)
    Log {
        /// Branch to list
        #[arg(long, short)]
        branch: Option<String>,
        /// Every project, not only this directory's
        #[arg(long)]
        all: bool,
        /// Print the turn records as a JSON array
        #[arg(long)]
        json: bool,
        /// Show at most N turns (the latest)
        #[arg(short = 'n', long = "limit")]
        limit: Option<usize>,
    },
    /// Show one turn in full: 12, #12, HEAD, HEAD~N, BRANCH, BRANCH~N
    Show {
        turn: String,
        #[arg(long)]
        json: bool,
    },
    /// All branches as a tree with their fork points
    Tree {
        #[arg(long)]
        json: bool,
    },
    /// The project's branches and Claude sessions: turns, tokens, last activity
    Sessions {
        #[arg(long)]
        json: bool,
    },
    /// Find claude, check the hooks fire and the store opens, and say what is wrong
    Doctor {
        #[arg(long)]
        json: bool,
        /// Recover a damaged turn log: keep every intact turn in a fresh one, the damaged copy aside
        #[arg(long)]
        repair: bool,
    },
    /// Run a program through the same PTY proxy, with no Claude integration, recording nothing
    Exec {
        /// The program and its arguments
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<OsString>,
    },
    /// Find turns whose prompt, reply or tool calls hold every word of QUERY (case-insensitive)
    Search {
        /// The words to look for (with --regex: one regular expression)
        #[arg(required = true)]
        query: Vec<String>,
        /// Where to look: prompt, reply, tools, comma-separated (default: all three)
        #[arg(long = "in", value_name = "FIELDS")]
        within: Option<String>,
        /// QUERY is one regular expression (case-insensitive)
        #[arg(long)]
        regex: bool,
        /// Only the turns of BRANCH's conversation
        #[arg(long, value_name = "BRANCH")]
        branch: Option<String>,
        /// Only turns started since a date (2026-01-31), a time, or a duration ago (90m, 3d)
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Every project, not only this directory's
        #[arg(long)]
        all: bool,
        /// Print the matching turn records as a JSON array
        #[arg(long)]
        json: bool,
    },
    /// Write a branch's conversation out as Markdown, JSON or HTML (default: the current branch)
    Export {
        /// Branch to export
        branch: Option<String>,
        /// md, json or html (default: from the file's extension, else md)
        #[arg(long, value_parser = ["md", "markdown", "json", "html"])]
        format: Option<String>,
        /// Write to FILE instead of standard output
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Mask API keys, tokens, private keys and secret-looking assignments
        #[arg(long)]
        redact: bool,
        /// Overwrite FILE without asking
        #[arg(long)]
        force: bool,
    },
    /// Bring Claude Code sessions made without ccx into the log, as branches
    Import {
        /// A session transcript (~/.claude/projects/<dir>/<session>.jsonl)
        path: Option<PathBuf>,
        /// Every Claude Code session of this project
        #[arg(long)]
        all: bool,
        /// Also bring back turns whose branches were deleted since they were imported
        #[arg(long)]
        include_deleted: bool,
    },
    /// Keep every project's Claude Code sessions in ccx's log before Claude Code deletes them
    Archive {
        /// Look at every transcript again, not only new or grown ones
        #[arg(long)]
        again: bool,
        /// Print what was done as JSON
        #[arg(long)]
        json: bool,
    },
    /// Find the first turn whose code fails a test, from the turns' code snapshots
    #[command(
        after_help = "Each tested turn's snapshot is written into a temporary directory (never your\n\
                      work tree) and CMD runs there, without a shell: exit 0 passes, anything else\n\
                      fails. Example: ccx bisect --good 12 --bad HEAD -- cargo test parser"
    )]
    Bisect {
        /// A turn whose code passes the test (12, #12, HEAD~N, BRANCH~N)
        #[arg(long, value_name = "TURN")]
        good: String,
        /// A later turn of the same conversation whose code fails it
        #[arg(long, value_name = "TURN")]
        bad: String,
        /// Stop a run of the test that takes longer than SECS seconds
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        timeout: u64,
        /// The test command and its arguments (after --)
        #[arg(required = true, last = true, value_name = "CMD")]
        command: Vec<OsString>,
    },
    /// Where two branches part, and their turns and outcomes side by side
    Diff {
        /// First branch
        a: String,
        /// Second branch
        b: String,
        /// Print the comparison as JSON
        #[arg(long)]
        json: bool,
    },
    /// Send a branch's prompts, one turn at a time, into a fresh headless session on a new branch
    Replay {
        /// Branch to replay
        branch: String,
        /// First turn to replay (12, #12, BRANCH~N; default: the first)
        #[arg(long)]
        from: Option<String>,
        /// Last turn to replay (default: the branch's head)
        #[arg(long)]
        to: Option<String>,
        /// Model for the replay (passed to claude --model)
        #[arg(long)]
        model: Option<String>,
        /// Stop a turn that takes longer than SECS seconds
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        timeout: u64,
    },
    /// Each tool call of a turn and the files it added, modified or deleted (default: HEAD)
    Effects {
        /// The turn: 12, #12, HEAD, HEAD~N, BRANCH, BRANCH~N
        turn: Option<String>,
        /// Print the calls as a JSON array
        #[arg(long)]
        json: bool,
        /// Show each call's patch
        #[arg(long)]
        diff: bool,
    },
    /// Put files back as they were before (default) or after a tool call, or a whole turn's calls
    Restore {
        /// TURN (all its calls) or TURN.CALL, e.g. HEAD.1 or 12.3
        target: String,
        /// As they were before the call (the default)
        #[arg(long, conflicts_with = "after")]
        before: bool,
        /// As they were after the call
        #[arg(long)]
        after: bool,
        /// Only these files or folders (default: every file the call changed)
        paths: Vec<String>,
    },
    /// Undo the last move (a restore; :undo inside ccx also undoes branch switches); again redoes
    Undo,
    /// The moves ccx made (switches, checkouts, rewinds, clears, briefs, restores)
    History {
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(
        after_help = "bash: ccx completions bash > ~/.local/share/bash-completion/completions/ccx\n\
                      zsh:  ccx completions zsh > ~/.zfunc/_ccx   (with ~/.zfunc on $fpath)\n\
                      fish: ccx completions fish > ~/.config/fish/completions/ccx.fish"
    )]
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print ccx's man page (roff): ccx man | man -l -
    Man,
    /// Show ccx's usage, a subcommand's help, or a meta-command in full (`ccx help :rewind`)
    Help {
        /// A subcommand (log, show, ...) or a meta-command (:branch, :rewind, ...)
        topic: Option<String>,
    },
}

/// What `ccx help` can explain: the subcommands, then the meta-commands with their `:`.
fn help_topics(cli: &clap::Command) -> clap::builder::PossibleValuesParser {
    use clap::builder::PossibleValue;
    let subcommands = cli
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .map(|c| {
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            PossibleValue::new(c.get_name().to_string()).help(about)
        })
        .collect::<Vec<_>>();
    let metas = crate::meta::REGISTRY
        .iter()
        .map(|m| PossibleValue::new(format!(":{}", m.name)).help(m.summary));
    clap::builder::PossibleValuesParser::new(subcommands.into_iter().chain(metas))
}

/// Splits the process arguments (without argv[0]) into an invocation.
pub fn parse(args: Vec<OsString>) -> Result<Invocation, clap::Error> {
    let first = args.first().and_then(|a| a.to_str()).unwrap_or("");
    if first == crate::hooks::settings::HOOK_SUBCOMMAND {
        return Ok(Invocation::Hook);
    }
    if first == crate::effects::finish::EFFECTS_SUBCOMMAND {
        return Ok(Invocation::EffectsHook);
    }
    if first == crate::status::STATUS_SUBCOMMAND {
        return Ok(Invocation::Status);
    }
    if first == crate::claude::installed::REMEMBER_SUBCOMMAND {
        return match args.get(1) {
            Some(path) if args.len() == 2 => Ok(Invocation::RememberClaude(PathBuf::from(path))),
            _ => Err(usage_error("usage: ccx __remember-claude PATH")),
        };
    }
    if SUBCOMMANDS.contains(&first) {
        use clap::FromArgMatches;
        let argv = std::iter::once(OsString::from("ccx")).chain(args);
        let matches = command().try_get_matches_from(argv)?;
        return Cli::from_arg_matches(&matches).map(|cli| Invocation::Command(cli.command));
    }
    let (claude, args, verbatim) = split_claude_args(args)?;
    // What follows `--` is claude's, verbatim: `ccx -- --help` is Claude's help.
    let first = args
        .first()
        .filter(|_| !verbatim)
        .and_then(|a| a.to_str())
        .unwrap_or("");
    if matches!(first, "-h" | "--help") {
        return Ok(Invocation::Help { claude });
    }
    if matches!(first, "-V" | "-v" | "--version") {
        return Ok(Invocation::Version { claude });
    }
    if args.len() == 1 {
        if let Some(suggestion) = near_subcommand(first) {
            return Ok(Invocation::NearSubcommand {
                word: first.to_string(),
                suggestion,
                claude,
            });
        }
    }
    Ok(Invocation::Claude { claude, args })
}

/// The ccx subcommand a lone word is probably a typo of: one plain word (letters and `-`)
/// within two edits of a subcommand, and not one of Claude's own subcommands. A prompt of
/// several words, or with spaces or punctuation, is never taken for one.
pub fn near_subcommand(word: &str) -> Option<&'static str> {
    let plain = !word.is_empty()
        && word.len() <= 16
        && word.chars().all(|c| c.is_ascii_alphabetic() || c == '-');
    if !plain
        || crate::claude::flags::CLAUDE_SUBCOMMANDS.contains(&word)
        || SUBCOMMANDS.contains(&word)
    {
        return None;
    }
    let word = word.to_ascii_lowercase();
    SUBCOMMANDS
        .iter()
        .map(|name| (crate::names::edit_distance(&word, name), *name))
        .filter(|(distance, name)| *distance <= 2 && *distance < name.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// The one clap command behind parsing, help, completions and the man page, with the
/// meta-commands and the paths after the options.
pub fn command() -> clap::Command {
    let cli = Cli::command();
    let topics = help_topics(&cli);
    let mut cli = cli
        .after_long_help(after_help(false))
        .mut_subcommand("help", |help| {
            help.mut_arg("topic", |arg| arg.value_parser(topics))
        });
    // The root's -h/--help is ccx's own (ccx's help, then Claude's), listed in after_help.
    cli.build();
    cli.mut_arg("help", |arg| arg.hide(true))
}

/// The meta-commands (one line each), turn references and paths; with `resolved`, the paths
/// as they are here and now, else the rules that choose them.
pub fn after_help(resolved: bool) -> String {
    use crate::meta::REGISTRY;
    let width = REGISTRY.iter().map(|c| c.usage.len()).max().unwrap_or(0);
    let mut text = String::from(
        "Options:\n  \
         --ccx-claude PATH  the Claude Code to run (else $CCX_CLAUDE, else `claude` on PATH,\n                     \
         else the one scripts/run.sh installed)\n  \
         -V, --version      ccx's version and Claude Code's\n  \
         -h, --help         this help, then Claude Code's\n\n\
         Meta-commands (type `:` on Claude's empty prompt, or press Ctrl-] at any time):\n",
    );
    for command in REGISTRY {
        text.push_str(&format!(
            "  {:<width$}  {}\n",
            command.usage, command.summary
        ));
    }
    text.push_str("\nTurn references: 12 or #12, HEAD, HEAD~N, BRANCH (its head), BRANCH~N\n\n");
    let data_rule = "$CCX_DATA_DIR, else $XDG_DATA_HOME/ccx, else ~/.local/share/ccx";
    let config_rule = "$XDG_CONFIG_HOME/ccx/config.toml, else ~/.config/ccx/config.toml";
    if resolved {
        let data = crate::paths::data_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|e| format!("unknown ({e})"));
        let config = crate::paths::config_file()
            .map(|c| c.display().to_string())
            .unwrap_or_else(|| "none (HOME is not set)".into());
        text.push_str(&format!(
            "Data:   {data}\n        ({data_rule})\n\
             Config: {config} (optional)\n        ({config_rule})\n"
        ));
    } else {
        text.push_str(&format!(
            "Data:   {data_rule}\nConfig: {config_rule} (optional)\n"
        ));
    }
    text
}

/// Takes the `--ccx-*` options out of claude's arguments: the Claude Code to run, the rest, and
/// whether the rest came after `--` (verbatim).
fn split_claude_args(
    args: Vec<OsString>,
) -> Result<(Option<PathBuf>, Vec<OsString>, bool), clap::Error> {
    let mut claude = None;
    let mut passed = Vec::new();
    let mut verbatim = false;
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_str().unwrap_or("");
        if text == "--" {
            verbatim = passed.is_empty();
            passed.extend(iter.by_ref());
            break;
        }
        if text == "--ccx-claude" {
            let Some(path) = iter.next() else {
                return Err(usage_error("--ccx-claude needs a path"));
            };
            claude = Some(PathBuf::from(path));
        } else if let Some(path) = text.strip_prefix("--ccx-claude=") {
            claude = Some(PathBuf::from(path));
        } else if text.starts_with("--ccx-") {
            return Err(usage_error(&format!(
                "unknown ccx option '{text}' (ccx options: --ccx-claude PATH)"
            )));
        } else {
            passed.push(arg);
        }
    }
    Ok((claude, passed, verbatim))
}

fn usage_error(message: &str) -> clap::Error {
    clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{message}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn claude_args(list: &[&str]) -> (Option<PathBuf>, Vec<String>) {
        match parse(args(list)).unwrap() {
            Invocation::Claude { claude, args } => (
                claude,
                args.into_iter().map(|a| a.into_string().unwrap()).collect(),
            ),
            other => panic!("not a claude invocation: {other:?}"),
        }
    }

    #[test]
    fn unknown_arguments_go_to_claude_unchanged() {
        let (claude, rest) = claude_args(&["--model", "sonnet", "-c", "fix the test"]);
        assert_eq!(claude, None);
        assert_eq!(rest, ["--model", "sonnet", "-c", "fix the test"]);
    }

    #[test]
    fn ccx_claude_option_is_taken_out() {
        let (claude, rest) = claude_args(&["--ccx-claude", "/x/claude", "-p", "hi"]);
        assert_eq!(claude, Some(PathBuf::from("/x/claude")));
        assert_eq!(rest, ["-p", "hi"]);
        let (claude, _) = claude_args(&["--ccx-claude=/y"]);
        assert_eq!(claude, Some(PathBuf::from("/y")));
    }

    #[test]
    fn double_dash_passes_everything_verbatim() {
        let (claude, rest) = claude_args(&["--", "log", "--ccx-claude", "x"]);
        assert_eq!(claude, None);
        assert_eq!(rest, ["log", "--ccx-claude", "x"]);
    }

    #[test]
    fn unknown_ccx_option_is_an_error() {
        assert!(parse(args(&["--ccx-nope"])).is_err());
        assert!(parse(args(&["--ccx-claude"])).is_err());
    }

    /// Asserts that each command line runs claude with the arguments paired with it.
    fn assert_passed_on(cases: &[(&[&str], &[&str])]) {
        for (typed, passed) in cases {
            assert_eq!(claude_args(typed).1, *passed, "{typed:?}");
        }
    }

    #[test]
    fn help_and_version_are_ccx_s_unless_after_double_dash() {
        assert!(matches!(
            parse(args(&["--help"])).unwrap(),
            Invocation::Help { .. }
        ));
        assert!(matches!(
            parse(args(&["-h"])).unwrap(),
            Invocation::Help { .. }
        ));
        for flag in ["-V", "-v", "--version"] {
            assert!(matches!(
                parse(args(&[flag])).unwrap(),
                Invocation::Version { .. }
            ));
        }
        assert_passed_on(&[
            (&["--", "--help"], &["--help"]),
            (&["mcp", "--help"], &["mcp", "--help"]),
        ]);
    }

    #[test]
    fn a_lone_word_near_a_subcommand_is_a_likely_typo() {
        assert_eq!(near_subcommand("logg"), Some("log"));
        assert_eq!(near_subcommand("shwo"), Some("show"));
        assert_eq!(near_subcommand("sesions"), Some("sessions"));
        assert_eq!(near_subcommand("log"), None, "a subcommand itself");
        assert_eq!(near_subcommand("mcp"), None, "Claude's own subcommand");
        assert_eq!(near_subcommand("refactor"), None);
        assert_eq!(near_subcommand("fix the log"), None);
        assert_eq!(near_subcommand("logg?"), None);
        assert!(matches!(
            parse(args(&["logg"])).unwrap(),
            Invocation::NearSubcommand {
                suggestion: "log",
                ..
            }
        ));
        assert_passed_on(&[
            (&["--", "logg"], &["logg"]),
            (&["logg", "now"], &["logg", "now"]),
        ]);
    }

    #[test]
    fn subcommands_are_reserved_words() {
        assert!(matches!(
            parse(args(&["log", "--json"])).unwrap(),
            Invocation::Command(Command::Log { json: true, .. })
        ));
        assert!(matches!(
            parse(args(&["show", "HEAD~1"])).unwrap(),
            Invocation::Command(Command::Show { .. })
        ));
        match parse(args(&["exec", "--", "sh", "-c", "exit 3"])).unwrap() {
            Invocation::Command(Command::Exec { command }) => {
                assert_eq!(command, args(&["sh", "-c", "exit 3"]))
            }
            other => panic!("{other:?}"),
        }
        match parse(args(&["exec", "cat", "-n"])).unwrap() {
            Invocation::Command(Command::Exec { command }) => {
                assert_eq!(command, args(&["cat", "-n"]))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(args(&["__hook"])).unwrap(),
            Invocation::Hook
        ));
    }
}
