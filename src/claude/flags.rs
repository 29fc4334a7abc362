//! Claude Code's command-line words, as ccx needs to know them: the subcommands and flags that
//! start no conversation, the flags that choose a session, the flags that take a value, and
//! from these which of the person's arguments still apply when ccx restarts claude on another
//! conversation. One table each, for every caller.

use std::ffi::OsString;

/// Claude Code's own subcommands: they start no conversation (run plainly), and a word that
/// is one of these is never taken for a typo of a ccx subcommand.
pub const CLAUDE_SUBCOMMANDS: &[&str] = &[
    "mcp",
    "config",
    "update",
    "doctor",
    "install",
    "migrate-installer",
    "setup-token",
    "plugin",
    "agents",
];

/// Claude's flags that start no conversation: run them plainly.
const PLAIN_FLAGS: &[&str] = &["-v", "--version", "-h", "--help"];

/// Whether a session flag is followed by its value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Takes {
    Nothing,
    /// A value when the next word is not a flag (`--resume` alone opens a picker).
    MaybeValue,
}

/// Flags that choose the session themselves (ccx then passes no `--session-id`); none of them
/// is carried into a restart.
const SESSION_FLAGS: &[(&str, Takes)] = &[
    ("-c", Takes::Nothing),
    ("--continue", Takes::Nothing),
    ("-r", Takes::MaybeValue),
    ("--resume", Takes::MaybeValue),
    ("--session-id", Takes::MaybeValue),
    ("--fork-session", Takes::Nothing),
];

/// Flags for one conversation only (print mode): not carried into a restart.
const ONE_SHOT_FLAGS: &[&str] = &["-p", "--print"];

/// Claude flags that take a value (so the value is not mistaken for a prompt).
const VALUE_FLAGS: &[&str] = &[
    "--model",
    "--permission-mode",
    "--add-dir",
    "--allowedTools",
    "--allowed-tools",
    "--disallowedTools",
    "--disallowed-tools",
    "--append-system-prompt",
    "--system-prompt",
    "--mcp-config",
    "--agents",
    "--fallback-model",
    "--max-turns",
    "--effort",
    "--agent",
    "--betas",
    "--plugin-dir",
    "--setting-sources",
];

/// The flag name of an argument (`--model=x` → `--model`).
fn flag_name(arg: &str) -> &str {
    arg.split('=').next().unwrap_or("")
}

fn session_flag(arg: &str) -> Option<Takes> {
    let name = flag_name(arg);
    SESSION_FLAGS
        .iter()
        .find(|(flag, _)| *flag == name)
        .map(|(_, takes)| *takes)
}

/// True when the arguments ask claude for something other than a conversation: a subcommand
/// first, or a version or help flag anywhere.
pub fn is_plain_invocation(args: &[OsString]) -> bool {
    args.iter()
        .take(1)
        .chain(
            args.iter()
                .filter(|a| a.to_str().is_some_and(|s| s.starts_with('-'))),
        )
        .any(|a| {
            a.to_str()
                .is_some_and(|s| CLAUDE_SUBCOMMANDS.contains(&s) || PLAIN_FLAGS.contains(&s))
        })
}

/// True when the arguments choose the session themselves (`-c`, `--resume ID`, …).
pub fn chooses_session(args: &[OsString]) -> bool {
    args.iter()
        .any(|a| a.to_str().and_then(session_flag).is_some())
}

/// The person's claude arguments that still apply when ccx restarts claude on another
/// conversation: options, without the ones choosing a session and without a prompt.
pub fn restart_args(args: &[OsString]) -> Vec<OsString> {
    let mut kept = Vec::new();
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        let has_value = text.contains('=');
        if let Some(takes) = session_flag(&text) {
            let value_follows = iter
                .peek()
                .is_some_and(|next| !next.to_string_lossy().starts_with('-'));
            if takes == Takes::MaybeValue && !has_value && value_follows {
                iter.next();
            }
            continue;
        }
        let name = flag_name(&text);
        if ONE_SHOT_FLAGS.contains(&name) {
            continue;
        }
        if VALUE_FLAGS.contains(&name) {
            kept.push(arg.clone());
            if !has_value {
                kept.extend(iter.next().cloned());
            }
            continue;
        }
        if text.starts_with('-') {
            kept.push(arg.clone());
        }
        // Anything else is a prompt: it was for the first conversation only.
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn plain_invocations_are_recognised() {
        assert!(is_plain_invocation(&args(&["mcp", "list"])));
        assert!(is_plain_invocation(&args(&["--version"])));
        assert!(!is_plain_invocation(&args(&["fix", "mcp"])));
        assert!(!is_plain_invocation(&args(&["--model", "sonnet"])));
    }

    #[test]
    fn session_flags_are_recognised() {
        assert!(chooses_session(&args(&["-c"])));
        assert!(chooses_session(&args(&["--resume", "abc"])));
        assert!(chooses_session(&args(&["--session-id=abc"])));
        assert!(chooses_session(&args(&["--fork-session"])));
        assert!(!chooses_session(&args(&["-p", "hi"])));
    }

    #[test]
    fn restart_keeps_options_and_drops_sessions_and_prompts() {
        assert_eq!(
            restart_args(&args(&[
                "--model",
                "sonnet",
                "-c",
                "fix the test",
                "--verbose"
            ])),
            args(&["--model", "sonnet", "--verbose"])
        );
        assert_eq!(
            restart_args(&args(&["--resume", "abc", "--permission-mode=acceptEdits"])),
            args(&["--permission-mode=acceptEdits"])
        );
        assert_eq!(
            restart_args(&args(&["--resume", "--model", "x"])),
            args(&["--model", "x"])
        );
        assert_eq!(
            restart_args(&args(&["--session-id=u", "-p", "hi"])),
            args(&[] as &[&str])
        );
        assert_eq!(
            restart_args(&args(&["--fork-session", "--print", "--continue", "x"])),
            args(&[] as &[&str])
        );
    }
}
