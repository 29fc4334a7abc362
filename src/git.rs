//! Runs git for the effects journal's side repository: a prepared command up to a deadline,
//! its output captured and its failure told in one line naming the command, and the reading
//! of `git diff-tree -z --name-status` output. Every command runs with separate argv items,
//! never through a shell.

use anyhow::{anyhow, bail, Context, Result};
use std::ffi::{OsStr, OsString};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// Git's stdout when it succeeded, else an error naming the command and git's complaint.
pub fn stdout_if_success<S: AsRef<OsStr>>(args: &[S], out: Output) -> Result<Vec<u8>> {
    if !out.status.success() {
        bail!(describe_failure(args, &out));
    }
    Ok(out.stdout)
}

/// "git ARGS failed: first line of stderr" (or the exit status when stderr is empty).
fn describe_failure<S: AsRef<OsStr>>(args: &[S], out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("exited with {}", out.status));
    format!("git {} failed: {first}", display_args(args))
}

fn display_args<S: AsRef<OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `git diff-tree` listing what differs between two trees (or commits), each file once
/// (no rename detection), as [`name_status_pairs`] reads it: FROM and TO follow.
pub const DIFF_TREE_NAME_STATUS: [&str; 6] = [
    "diff-tree",
    "-r",
    "-z",
    "--no-renames",
    "--name-status",
    "--no-commit-id",
];

/// [`DIFF_TREE_NAME_STATUS`] output as (status letter, path) pairs.
pub fn name_status_pairs(out: &[u8], from: &str, to: &str) -> Result<Vec<(u8, Vec<u8>)>> {
    let mut fields = out.split(|&b| b == 0).filter(|f| !f.is_empty());
    let mut changes = Vec::new();
    while let Some(status) = fields.next() {
        let path = fields
            .next()
            .ok_or_else(|| anyhow!("git diff-tree {from} {to}: unexpected output"))?;
        changes.push((status[0], path.to_vec()));
    }
    Ok(changes)
}

/// Runs a prepared git command (`args` are its arguments, for messages), feeding `input` to its
/// stdin and capturing its output; kills it and its process group at `deadline`. Fails only
/// when it cannot be run or runs out of time.
pub fn run_until(
    mut cmd: Command,
    args: &[OsString],
    input: Option<Vec<u8>>,
    deadline: Instant,
) -> Result<Output> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    // Its own process group, so a timeout kills git and anything it started.
    .process_group(0);
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot run git {}", display_args(args)))?;
    let started = Instant::now();
    match crate::child::wait_until(child, input, deadline)? {
        Some(out) => Ok(out),
        None => bail!(
            "git {} timed out after {} ms and was stopped",
            display_args(args),
            started.elapsed().as_millis()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn git(args: &[&str], input: Option<&str>) -> Result<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let mut cmd = Command::new("git");
        cmd.current_dir(dir.path()).args(&args);
        let soon = Instant::now() + Duration::from_secs(30);
        let out = run_until(cmd, &args, input.map(|i| i.as_bytes().to_vec()), soon)?;
        stdout_if_success(&args, out)
    }

    #[test]
    fn output_comes_back_and_a_failure_names_the_command_and_gits_complaint() {
        let id = git(&["hash-object", "--stdin"], Some("hello\n")).unwrap();
        assert_eq!(id, b"ce013625030ba8dba906f756967f9e9ca394464a\n");
        let err = git(&["cat-file", "-t", "0123456"], None).unwrap_err();
        let said = err.to_string();
        assert!(
            said.starts_with("git cat-file -t 0123456 failed: "),
            "{said}"
        );
        assert!(
            said.len() > "git cat-file -t 0123456 failed: ".len(),
            "{said}"
        );
    }

    #[test]
    fn name_status_output_is_read_as_pairs_and_a_cut_one_is_refused() {
        let pairs = name_status_pairs(b"M\0src/a.rs\0D\0b c\0", "t1", "t2").unwrap();
        assert_eq!(
            pairs,
            [(b'M', b"src/a.rs".to_vec()), (b'D', b"b c".to_vec())]
        );
        let err = name_status_pairs(b"M\0src/a.rs\0A\0", "t1", "t2").unwrap_err();
        assert_eq!(err.to_string(), "git diff-tree t1 t2: unexpected output");
    }
}
