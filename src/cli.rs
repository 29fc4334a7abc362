//! The command line: ccx subcommands (reserved words) parsed by clap; everything else,
//! except `--ccx-*` options, goes to claude unchanged (SPEC "Launching").

use clap::{Parser, Subcommand};
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
    "replay",
    "diff",
    "sessions",
    "exec",
    "doctor",
    "completions",
    "help",
];

/// Internal subcommands run by Claude Code's hooks and status line; not for people.
pub const HOOK_SUBCOMMAND: &str = "__hook";

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
    /// Our status line, called by Claude Code with the payload on stdin.
    Status,
}

#[derive(Debug, Parser)]
#[command(
    name = "ccx",
    version,
    about = "Claude Code with a turn log, branches and context commands",
    long_about = "ccx runs Claude Code inside a PTY proxy, records every turn, and adds \
                  meta-commands. Run `ccx [CLAUDE ARGS]` to start Claude Code through ccx; \
                  the subcommands below read and manage the turn log."
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
    /// Find turns whose prompt or reply holds every word of QUERY (case-insensitive)
    Search {
        /// The words to look for
        #[arg(required = true)]
        query: Vec<String>,
        /// Every project, not only this directory's
        #[arg(long)]
        all: bool,
        /// Print the matching turn records as a JSON array
        #[arg(long)]
        json: bool,
    },
    /// Write a branch's conversation out as Markdown or JSON (default: the current branch)
    Export {
        /// Branch to export
        branch: Option<String>,
        /// md or json (default: from the file's extension, else md)
        #[arg(long, value_parser = ["md", "markdown", "json"])]
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
}

/// Splits the process arguments (without argv[0]) into an invocation.
pub fn parse(args: Vec<OsString>) -> Result<Invocation, clap::Error> {
    let first = args.first().and_then(|a| a.to_str()).unwrap_or("");
    if first == HOOK_SUBCOMMAND {
        return Ok(Invocation::Hook);
    }
    if first == crate::status::STATUS_SUBCOMMAND {
        return Ok(Invocation::Status);
    }
    if SUBCOMMANDS.contains(&first) {
        let argv = std::iter::once(OsString::from("ccx")).chain(args);
        return Cli::try_parse_from(argv).map(|cli| Invocation::Command(cli.command));
    }
    split_claude_args(args)
}

fn split_claude_args(args: Vec<OsString>) -> Result<Invocation, clap::Error> {
    let mut claude = None;
    let mut passed = Vec::new();
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_str().unwrap_or("");
        if text == "--" {
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
    Ok(Invocation::Claude {
        claude,
        args: passed,
    })
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
