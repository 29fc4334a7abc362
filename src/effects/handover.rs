//! The `PostToolUse` hook hands its snapshot to a detached `ccx __effects --finish PROJECT`
//! and exits, so Claude Code goes on with the call's result at once. The hand-over cannot lose
//! an ordering: the hook takes the project's snapshot lock first and the child inherits it (its
//! standard input is the lock file, the same open file, so the same lock), so the next call's
//! `PreToolUse` snapshot, a restore, or a reader of the journal waits until the child has
//! taken the snapshot and appended the line. The child keeps the hook's budget: past it the
//! line says "not snapshotted", as the hook's own would. When the child cannot be started the
//! hook takes the snapshot itself.

use super::finish::{detached, finish_line, FINISH_ARG};
use super::journal::Record;
use super::side::{SideLock, SideRepo};
use anyhow::{Context, Result};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The environment variable carrying the line (JSON) to the child: an environment is readable
/// by its owner only, where arguments are not.
const LINE_VAR: &str = "CCX_EFFECTS_LINE";

/// The environment variable carrying what is left of the budget, in milliseconds.
const LEFT_VAR: &str = "CCX_EFFECTS_LEFT_MS";

/// Records the `post` `line` of `project` (whose side repository is `repo`): hands it to a
/// detached child holding the lock (`Ok(None)`), or, when the lock was not had by `deadline`
/// or no child could be started, finishes it here (`Ok(Some(taken))`).
pub fn post(
    repo: &SideRepo,
    project: &Path,
    line: Record,
    deadline: Instant,
    started: Instant,
) -> Result<Option<bool>> {
    let lock = repo.lock(deadline);
    if let Ok(held) = &lock {
        if spawn(project, &line, held, deadline).is_ok() {
            return Ok(None);
        }
    }
    finish_line(repo, line, &lock, deadline, started).map(Some)
}

/// Starts `ccx __effects --finish PROJECT` in its own process group, no output streams, the
/// lock file as its standard input.
fn spawn(project: &Path, line: &Record, lock: &SideLock, deadline: Instant) -> Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    detached(FINISH_ARG, project)?
        .env(LINE_VAR, serde_json::to_string(line)?)
        .env(LEFT_VAR, left.as_millis().to_string())
        .stdin(Stdio::from(lock.share()?))
        .spawn()
        .context("cannot start the snapshot's finishing process")?;
    Ok(())
}

/// The child's side: takes the snapshot for the handed-over line and appends it (the lock it
/// inherited on standard input; when that is not the project's lock, it waits for the lock
/// like any hook); then, as a hook would, a warm-up or a packing when due. True when the
/// snapshot was taken.
pub fn finish(project: &Path) -> Result<bool> {
    let started = Instant::now();
    let line: Record = serde_json::from_str(&std::env::var(LINE_VAR).context(LINE_VAR)?)?;
    let left: u64 = std::env::var(LEFT_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let deadline = started + Duration::from_millis(left);
    let repo = SideRepo::for_project(project)?;
    let inherited = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| repo.held_lock(std::fs::File::from(fd)));
    let lock = match inherited {
        Some(lock) => Ok(lock),
        None => repo.lock(deadline),
    };
    let taken = finish_line(&repo, line, &lock, deadline, started)?;
    drop(lock);
    super::finish::after_snapshot(&repo, project, taken);
    Ok(taken)
}
