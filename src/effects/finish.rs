//! A tool call's journal line, finished: its snapshot taken under the project's lock (or the
//! line says "not snapshotted" and why), the `pre` tree left in `pending/` for the `post` of the
//! same call, the line appended; then the upkeep a snapshot may call for (a warm-up, a packing),
//! started detached. Shared by the hook ([`super::hook`]) and the process a `post` hands its
//! snapshot to ([`super::handover`]); also the arguments `ccx __effects` takes and the budget.

use super::journal::{self, Kind, Record};
use super::side::{SideLock, SideRepo};
use std::path::Path;
use std::time::{Duration, Instant};

/// The internal subcommand Claude Code runs for these hooks.
pub const EFFECTS_SUBCOMMAND: &str = "__effects";

/// How long one hook may spend on its snapshot (`$CCX_EFFECTS_BUDGET_MS` overrides it).
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(1500);

/// The environment variable overriding the budget, in milliseconds.
pub const BUDGET_VAR: &str = "CCX_EFFECTS_BUDGET_MS";

/// The argument that makes `ccx __effects` pack the side repository instead (see
/// [`SideRepo::maintain`]); the hook starts it, detached, every [`MAINTAIN_EVERY`] journal bytes.
pub const MAINTAIN_ARG: &str = "--maintain";

/// How much the journal grows between two packings of the side repository.
pub const MAINTAIN_EVERY: u64 = 64 * 1024;

/// The argument that makes `ccx __effects` take one snapshot with no budget, so the stat
/// cache knows every file (the first snapshot of a large project hashes them all); the hook
/// starts it, detached, when its own snapshot ran out of time.
pub const WARM_ARG: &str = "--warm";

/// The argument that makes `ccx __effects` finish a handed-over `post` line
/// ([`super::handover`]).
pub const FINISH_ARG: &str = "--finish";

/// What follows a hook's snapshot: a warm-up when it did not fit the budget, a packing when
/// the journal has grown enough.
pub fn after_snapshot(repo: &SideRepo, project: &Path, taken: bool) {
    if !taken {
        maybe_warm(repo, project);
    }
    maybe_maintain(repo, project);
}

/// The budget: `$CCX_EFFECTS_BUDGET_MS`, else [`DEFAULT_BUDGET`].
pub fn budget() -> Duration {
    std::env::var(BUDGET_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_BUDGET)
}

/// A tool_use_id fit for a file name.
pub(super) fn safe_id(id: &str) -> Option<&str> {
    (!id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    .then_some(id)
}

/// Takes the snapshot for `line` (when `lock` is the project's lock, held; else why it is not),
/// by `deadline`, and appends the line; `started` is when the hook's work began. A
/// `pre` leaves its tree for the `post` of the same call, which records it beside its own.
/// True when the snapshot was taken.
pub fn finish_line(
    repo: &SideRepo,
    mut line: Record,
    lock: &anyhow::Result<SideLock>,
    deadline: Instant,
    started: Instant,
) -> anyhow::Result<bool> {
    let snapshot = match lock {
        Ok(_) => repo.snapshot_locked(deadline),
        Err(err) => Err(anyhow::anyhow!("{err:#}")),
    };
    match snapshot {
        Ok(snap) => {
            line.tree = Some(snap.tree);
            line.skipped = snap.skipped;
        }
        Err(err) => {
            let missed = format!(
                "not snapshotted: {} (budget {} ms)",
                first_line(&format!("{err:#}")),
                budget().as_millis()
            );
            line.note = Some(match line.note.take() {
                Some(failed) => format!("{failed}; {missed}"),
                None => missed,
            });
        }
    }
    let pending = safe_id(&line.id).map(|id| repo.dir().join("pending").join(id));
    match (line.kind, &pending) {
        (Kind::Pre, Some(file)) => {
            if let Some(tree) = &line.tree {
                let _ = std::fs::create_dir_all(file.parent().unwrap_or(repo.dir()));
                let _ = std::fs::write(file, tree);
            }
        }
        (Kind::Post, Some(file)) => {
            // The files changed are worked out when read (`turns::calls_of`): one git process
            // fewer inside the tool call.
            line.before = std::fs::read_to_string(file).ok();
            let _ = std::fs::remove_file(file);
        }
        _ => {}
    }
    line.millis = started.elapsed().as_millis() as u64;
    journal::append(repo.dir(), &line)?;
    Ok(line.tree.is_some())
}

/// Starts the packing, detached (its own session, no standard streams), when the journal has
/// grown by [`MAINTAIN_EVERY`] since the last one.
fn maybe_maintain(repo: &SideRepo, project: &Path) {
    let size = std::fs::metadata(journal::journal_path(repo.dir()))
        .map(|m| m.len())
        .unwrap_or(0);
    let mark = repo.dir().join("maintained-at");
    let last: u64 = std::fs::read_to_string(&mark)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    if size < last + MAINTAIN_EVERY || std::fs::write(&mark, size.to_string()).is_err() {
        return;
    }
    start_detached(MAINTAIN_ARG, project);
}

/// How long after one warm-up another may start (a project too large for the budget even when
/// warm must not be rescanned at every call).
const WARM_EVERY: Duration = Duration::from_secs(600);

/// Starts a warm-up (see [`WARM_ARG`]) unless one started within [`WARM_EVERY`].
fn maybe_warm(repo: &SideRepo, project: &Path) {
    let mark = repo.dir().join("warm-started");
    let recent = std::fs::metadata(&mark)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < WARM_EVERY);
    if !recent && std::fs::write(&mark, b"").is_ok() {
        start_detached(WARM_ARG, project);
    }
}

/// Starts `ccx __effects MODE PROJECT` in the background: its own process group, no standard
/// streams, so Claude Code never waits for it.
pub fn start_detached(mode: &str, project: &Path) {
    if let Ok(mut cmd) = detached(mode, project) {
        let _ = cmd.stdin(std::process::Stdio::null()).spawn();
    }
}

/// `ccx __effects MODE PROJECT` to start in a process group of its own, with no output
/// streams, so it outlives the hook that starts it; its standard input is the caller's to set.
pub fn detached(mode: &str, project: &Path) -> std::io::Result<std::process::Command> {
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg(EFFECTS_SUBCOMMAND)
        .arg(mode)
        .arg(project)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    Ok(cmd)
}

pub(super) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_tool_use_id_names_a_file() {
        assert!(safe_id("toolu_01AbC-9").is_some());
        assert!(safe_id("../../etc").is_none());
    }
}
