//! `ccx __effects`: the `PreToolUse` / `PostToolUse` / `PostToolUseFailure` hook of the tools
//! that may write. It snapshots the project into its side repository and appends a line to the
//! effects journal, within a budget: past it, the snapshot stops and the line says "not
//! snapshotted". It prints nothing and always exits 0, so it never fails or changes a tool call.
//!
//! A `post` takes the project's lock and hands its snapshot to a detached child that keeps the
//! lock (`handover`), so the hook itself exits at once.
//!
//! The project is `$CLAUDE_PROJECT_DIR` (the directory Claude, and so ccx, started in), else the
//! payload's `cwd`. A `pre` snapshot leaves its tree in `pending/<tool_use_id>` for the `post`
//! of the same call, which records it beside its own (the files changed are worked out from the
//! two trees when read, one git process fewer inside the call).

use super::finish::{
    after_snapshot, budget, finish_line, first_line, EFFECTS_SUBCOMMAND, FINISH_ARG, MAINTAIN_ARG,
    WARM_ARG,
};
use super::journal::{self, Kind, Record};
use super::side::SideRepo;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The hook events the journal listens to.
pub const EVENTS: &[&str] = &["PreToolUse", "PostToolUse", "PostToolUseFailure"];

/// The tools whose calls are snapshotted: Claude Code's writing tools and every MCP tool.
pub const TOOL_MATCHER: &str = "Bash|Edit|Write|MultiEdit|NotebookEdit|mcp__.*";

/// Largest payload read (a Write of a big file carries its content).
const MAX_PAYLOAD: u64 = 64 * 1024 * 1024;

/// Adds the journal's hooks (one group per event in [`EVENTS`], for the tools in
/// [`TOOL_MATCHER`], calling `exe __effects`; `quoted_exe` is ccx's path quoted for a shell) to
/// a settings `hooks` object. Claude Code's own time limit on them is well past the budget, so
/// it never cuts one off.
pub fn add_hooks(hooks: &mut serde_json::Map<String, Value>, quoted_exe: &str) {
    let command = format!("{quoted_exe} {EFFECTS_SUBCOMMAND}");
    let timeout = budget().as_secs() + 30;
    for event in EVENTS {
        hooks.insert(
            (*event).to_string(),
            serde_json::json!([{ "matcher": TOOL_MATCHER,
                "hooks": [{ "type": "command", "command": command, "timeout": timeout }] }]),
        );
    }
}

/// Runs the hook (or, with [`MAINTAIN_ARG`] / [`WARM_ARG`] / [`FINISH_ARG`] and a project,
/// the packing, the warm-up or a handed-over snapshot); always returns 0.
pub fn run() -> i32 {
    let mode = std::env::args_os().nth(2);
    if let (Some(mode), Some(project)) = (&mode, std::env::args_os().nth(3)) {
        let project = Path::new(&project);
        let result = if mode == MAINTAIN_ARG {
            maintain(project)
        } else if mode == WARM_ARG {
            warm(project)
        } else if mode == FINISH_ARG {
            super::handover::finish(project).map(|_| ())
        } else {
            Ok(())
        };
        if let Err(err) = result {
            crate::diag::log(&format!("effects: {err:#}"));
        }
        return 0;
    }
    let started = Instant::now();
    let mut input = Vec::new();
    if std::io::stdin()
        .lock()
        .take(MAX_PAYLOAD)
        .read_to_end(&mut input)
        .is_err()
    {
        return 0;
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&input) else {
        return 0;
    };
    let project = std::env::var_os("CLAUDE_PROJECT_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| payload["cwd"].as_str().map(PathBuf::from));
    let (Some(project), Some(line)) = (project, line_of(&payload)) else {
        return 0;
    };
    let repo = match SideRepo::for_project(&project) {
        Ok(repo) => repo,
        Err(err) => {
            crate::diag::log(&format!("effects hook: {err:#}"));
            return 0;
        }
    };
    let deadline = started + budget();
    let taken = match line.kind {
        Kind::Post => super::handover::post(&repo, &project, line, deadline, started),
        _ => finish_line(&repo, line, &repo.lock(deadline), deadline, started).map(Some),
    };
    match taken {
        Ok(None) => {} // handed over: the child does what follows
        Ok(Some(taken)) => after_snapshot(&repo, &project, taken),
        Err(err) => crate::diag::log(&format!("effects hook: {err:#}")),
    }
    0
}

/// What a call is about, in one line: a Bash command, the file a tool writes, else its input.
pub fn subject_of(tool: &str, input: &Value) -> String {
    let text = match tool {
        "Bash" => input["command"].as_str().map(str::to_string),
        _ => ["file_path", "notebook_path", "path"]
            .iter()
            .find_map(|k| input[k].as_str().map(str::to_string)),
    };
    let text = text.unwrap_or_else(|| input.to_string());
    let mut short: String = text.chars().take(500).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Snapshots `project` for the hook `payload` and appends the journal line, by `deadline`
/// for the snapshot (the line is written in any case).
pub fn record(project: &Path, payload: &Value, deadline: Instant) -> anyhow::Result<bool> {
    record_in(&SideRepo::for_project(project)?, payload, deadline)
}

/// [`record`] into the side repository `repo`. True when the snapshot was taken (or the event
/// is not one of ours).
pub fn record_in(repo: &SideRepo, payload: &Value, deadline: Instant) -> anyhow::Result<bool> {
    let Some(line) = line_of(payload) else {
        return Ok(true);
    };
    let started = Instant::now();
    finish_line(repo, line, &repo.lock(deadline), deadline, started)
}

/// The journal line of a hook `payload` before its snapshot (a failed call's error already in
/// its note); None when the event is not one of ours.
pub fn line_of(payload: &Value) -> Option<Record> {
    let kind = match payload["hook_event_name"].as_str().unwrap_or_default() {
        "PreToolUse" => Kind::Pre,
        "PostToolUse" | "PostToolUseFailure" => Kind::Post,
        _ => return None,
    };
    let tool = payload["tool_name"].as_str().unwrap_or("tool").to_string();
    let note = (payload["hook_event_name"] == "PostToolUseFailure").then(|| {
        let error = payload["error"].as_str().unwrap_or("failed");
        format!("the call failed: {}", first_line(error))
    });
    Some(Record {
        kind,
        at: crate::model::now_rfc3339(),
        session_id: payload["session_id"].as_str().map(str::to_string),
        prompt_id: payload["prompt_id"].as_str().map(str::to_string),
        id: payload["tool_use_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        subject: subject_of(&tool, &payload["tool_input"]),
        tool,
        tree: None,
        before: None,
        changes: Vec::new(),
        skipped: Vec::new(),
        kept_aside: Vec::new(),
        note,
        millis: 0,
    })
}

/// One snapshot of `project` with no budget (waiting for the lock), to warm its stat cache.
fn warm(project: &Path) -> anyhow::Result<()> {
    let repo = SideRepo::for_project(project)?;
    repo.snapshot(Instant::now() + super::side::UNHURRIED)?;
    Ok(())
}

/// Packs `project`'s side repository, holding a lock of its own so two never run at once.
fn maintain(project: &Path) -> anyhow::Result<()> {
    let repo = SideRepo::for_project(project)?;
    let lock_path = repo.dir().join("maintain.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Ok(());
    }
    remove_older_than(&repo.dir().join("pending"), STALE, |_| true);
    let objects = repo.dir().join("git/objects");
    for fanout in std::fs::read_dir(&objects).into_iter().flatten().flatten() {
        // Left by a git a budget stopped mid-write.
        remove_older_than(&fanout.path(), STALE, |name| name.starts_with("tmp_obj_"));
    }
    // Left by a snapshot stopped while writing its pack.
    remove_older_than(&objects.join("pack"), STALE, |name| {
        name.starts_with("tmp_pack_")
    });
    let trees: Vec<String> = journal::read_all(repo.dir())?
        .into_iter()
        .flat_map(|r| [r.tree, r.before])
        .flatten()
        .collect();
    repo.maintain(&trees)
}

/// How old a leftover (a `pre` whose call never ended, a temporary object of a stopped git)
/// must be before the packing removes it.
const STALE: Duration = Duration::from_secs(24 * 3600);

/// Removes the files in `dir` whose name `wanted` accepts and that were last changed more than
/// `age` ago.
fn remove_older_than(dir: &Path, age: Duration, wanted: impl Fn(&str) -> bool) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|elapsed| elapsed > age);
        if old && wanted(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subjects_name_the_command_or_the_file() {
        assert_eq!(subject_of("Bash", &json!({"command": "rm x"})), "rm x");
        assert_eq!(
            subject_of("Write", &json!({"file_path": "/p/a", "content": "x"})),
            "/p/a"
        );
        assert_eq!(
            subject_of("NotebookEdit", &json!({"notebook_path": "/p/n.ipynb"})),
            "/p/n.ipynb"
        );
        assert_eq!(subject_of("mcp__x__y", &json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn only_old_leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new, other) = (
            dir.path().join("tmp_obj_old"),
            dir.path().join("tmp_obj_new"),
            dir.path().join("keep_old"),
        );
        for file in [&old, &new, &other] {
            std::fs::write(file, "x").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
        for file in [&old, &other] {
            let f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
            f.set_modified(long_ago).unwrap();
        }
        remove_older_than(dir.path(), STALE, |name| name.starts_with("tmp_obj_"));
        assert!(!old.exists());
        assert!(new.exists(), "too recent");
        assert!(other.exists(), "not a leftover");
    }
}
