//! One question to a headless Claude that leaves nothing behind (`:merge`, `:btw`):
//! `claude -p [--resume SESSION --fork-session] --no-session-persistence --output-format json`,
//! the question on stdin, in the project directory, in its own process group (the terminal's
//! Ctrl-C is ccx's business), `CLAUDECODE*` variables removed. With `--fork-session` and no
//! persistence the resumed conversation is read, never changed, and the answer's session is
//! never saved. The answer is the `result` of the JSON claude prints.

use crate::claude::command::ClaudeCommand;
use crate::ids::SessionId;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Claude's answer in its `--output-format json` output, or why there is none.
pub fn answer_of(stdout: &str) -> Result<String> {
    let value: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .context("claude printed no answer")?;
    let text = value
        .get("result")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    if value.get("is_error").and_then(Value::as_bool) == Some(true) {
        let first = text.lines().next().unwrap_or("an error").to_string();
        bail!("claude could not answer: {first}");
    }
    if text.is_empty() {
        bail!("claude's answer was empty");
    }
    Ok(text)
}

/// The Claude Code to ask: the program and the project directory (its environment is the
/// session's claude's, from [`ClaudeCommand::fork_question`]).
pub struct Claude<'a> {
    pub program: &'a Path,
    pub cwd: &'a Path,
}

/// Starts `cmd` (running `program`) with its stdin, stdout and stderr piped, in its own process
/// group: the terminal's Ctrl-C reaches ccx, which stops the child, and a kill of the group
/// reaches whatever the child started.
pub fn spawn_piped(mut cmd: std::process::Command, program: &Path) -> Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cmd.spawn()
        .with_context(|| format!("cannot start {}", program.display()))
}

/// Asks `question` of a headless fork of `session` (None: a fresh conversation), waiting at
/// most `timeout`.
pub fn ask(
    claude: &Claude<'_>,
    session: Option<&SessionId>,
    question: &str,
    timeout: Duration,
) -> Result<String> {
    let cmd = ClaudeCommand::fork_question(claude.program, claude.cwd, session).into_process();
    let child = spawn_piped(cmd, claude.program)?;
    let input = Some(question.as_bytes().to_vec());
    let Some(out) = crate::child::wait_until(child, input, Instant::now() + timeout)? else {
        bail!("claude did not answer within {} s", timeout.as_secs());
    };
    let (status, stdout) = (out.status, String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    match answer_of(&stdout) {
        Ok(answer) => Ok(answer),
        Err(_) if !status.success() => {
            let why = stderr
                .lines()
                .chain(stdout.lines())
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("no output")
                .to_string();
            bail!("claude failed ({status}): {why}")
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_is_resumed_without_being_saved() {
        let args = |session| {
            ClaudeCommand::fork_question(Path::new("claude"), Path::new("."), session).args
        };
        let abc = SessionId::from("abc");
        assert_eq!(
            args(Some(&abc)),
            [
                "-p",
                "--resume",
                "abc",
                "--fork-session",
                "--no-session-persistence",
                "--output-format",
                "json"
            ]
        );
        assert_eq!(args(None)[1], "--no-session-persistence");
    }

    #[test]
    fn the_answer_is_the_result_or_one_line_why_not() {
        let ok = r#"{"type":"result","subtype":"success","is_error":false,"result":" Use B. \n"}"#;
        assert_eq!(answer_of(ok).unwrap(), "Use B.");
        let failed = r#"{"type":"result","is_error":true,"result":"API Error: 500\nmore"}"#;
        assert_eq!(
            answer_of(failed).unwrap_err().to_string(),
            "claude could not answer: API Error: 500"
        );
        assert!(answer_of("not json").is_err());
        assert!(answer_of(r#"{"result":""}"#).is_err());
    }
}
