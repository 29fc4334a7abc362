//! The retention guard: ccx is the archive of record. Claude Code unlinks its transcripts after
//! `cleanupPeriodDays` (30 by default), so ccx imports every Claude Code session of every
//! project under Claude's projects directory that is new or grew since it last looked, into
//! that project's turn log (the same import as `ccx import`, so deleted branches stay deleted).
//!
//! It runs in `ccx archive` and, unless `auto_archive = false`, in the background of every
//! session ([`start_in_background`]: a low-priority thread that never stands between the person
//! and Claude's prompt, stopped at the next transcript when the session ends).
//!
//! Incremental: `<data dir>/archive.json` remembers each transcript's size and modification
//! time and what became of it, so a run with nothing new is one `stat` per transcript.
//! Transcripts written in the last [`QUIET`] are left for the next run (a live session: its
//! last turn may still be growing). One run at a time: `<data dir>/archive.lock`.

pub mod report;

use crate::store::Store;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A transcript written more recently than this is taken as in use and left for later.
pub const QUIET: Duration = Duration::from_secs(10 * 60);
/// Claude Code's retention when its settings do not say.
pub const DEFAULT_RETENTION_DAYS: u64 = 30;
/// The background pass starts no new transcript after this long.
const BACKGROUND_BUDGET: Duration = Duration::from_secs(300);
const STATE_FILE: &str = "archive.json";
const LOCK_FILE: &str = "archive.lock";
/// Lines read from a transcript's start to find its project (`cwd`).
const CWD_SEARCH_LINES: usize = 200;

/// What became of a transcript the last time it was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its turns are in the project's log.
    Archived,
    /// ccx recorded it itself (its turns are in the log already).
    Recorded,
    /// Nothing to keep: no conversation in it.
    Empty,
    /// No project could be told from it (no `cwd` in its lines).
    NoProject,
    /// The import failed; tried again when it changes, or by `ccx archive`.
    Failed,
}

impl Outcome {
    /// Whether the transcript's conversation is safe in ccx's log.
    pub fn is_kept(self) -> bool {
        matches!(self, Outcome::Archived | Outcome::Recorded | Outcome::Empty)
    }
}

/// A transcript's size and modification time, and its outcome then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub size: u64,
    pub mtime_ns: i128,
    pub outcome: Outcome,
}

/// `archive.json`: transcript path → its mark.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub files: HashMap<String, Mark>,
}

impl State {
    pub fn load(data_dir: &Path) -> State {
        std::fs::read(data_dir.join(STATE_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the state beside its final name and renames it into place (owner-only).
    pub fn save(&self, data_dir: &Path) -> Result<()> {
        crate::paths::ensure_private_dir(data_dir)?;
        let path = data_dir.join(STATE_FILE);
        let temp = data_dir.join(format!(".{STATE_FILE}.{}", std::process::id()));
        std::fs::write(&temp, serde_json::to_vec(self)?)
            .with_context(|| format!("cannot write {}", temp.display()))?;
        std::fs::rename(&temp, &path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

/// One transcript found under Claude's projects directory.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    pub size: u64,
    pub modified: SystemTime,
}

impl Found {
    fn mtime_ns(&self) -> i128 {
        mtime_ns(self.modified)
    }
}

fn mtime_ns(time: SystemTime) -> i128 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// Every session transcript under `<claude config>/projects/*/` (subagent transcripts in
/// deeper folders are part of their session and not listed).
pub fn scan(claude_config: &Path) -> Vec<Found> {
    let Ok(projects) = std::fs::read_dir(claude_config.join("projects")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for project in projects.flatten() {
        if !project.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(files) = std::fs::read_dir(project.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".jsonl") {
                continue;
            }
            let Ok(meta) = file.metadata() else { continue };
            if meta.is_file() {
                found.push(Found {
                    path: file.path(),
                    size: meta.len(),
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
    }
    found
}

/// Which transcripts a run imports, and why the others wait.
#[derive(Debug, Default)]
pub struct Plan {
    pub todo: Vec<Found>,
    /// Written in the last [`QUIET`]: left for the next run.
    pub active: Vec<Found>,
    pub unchanged: usize,
}

/// Sorts `found` against the marks in `state`: unchanged ones are skipped (failed ones too,
/// unless `retry_failed`), recent ones wait; with `again`, every quiet one is looked at.
pub fn plan(
    found: Vec<Found>,
    state: &State,
    now: SystemTime,
    again: bool,
    retry_failed: bool,
) -> Plan {
    let mut plan = Plan::default();
    for f in found {
        let mark = state.files.get(&f.path.to_string_lossy().into_owned());
        let same = mark.is_some_and(|m| m.size == f.size && m.mtime_ns == f.mtime_ns());
        let retry = retry_failed && mark.is_some_and(|m| !m.outcome.is_kept());
        if same && !again && !retry {
            plan.unchanged += 1;
        } else if now.duration_since(f.modified).unwrap_or_default() < QUIET {
            plan.active.push(f);
        } else {
            plan.todo.push(f);
        }
    }
    plan
}

/// The project a transcript belongs to: the `cwd` its first lines carry.
pub fn project_of(path: &Path) -> Option<PathBuf> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).ok()?;
    let reader = std::io::BufReader::new(file);
    for line in reader.split(b'\n').take(CWD_SEARCH_LINES) {
        let line = line.ok()?;
        // Only lines that can carry it are parsed.
        if memchr::memmem::find(&line, b"\"cwd\"").is_none() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_slice(&line).ok()?;
        if let Some(cwd) = value
            .get("cwd")
            .and_then(|c| c.as_str())
            .filter(|c| !c.is_empty())
        {
            return Some(crate::paths::project_dir(Path::new(cwd)));
        }
    }
    None
}

/// What a run did.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Sessions whose turns went into a log in this run.
    pub sessions: usize,
    pub turns: usize,
    /// Projects that received turns.
    pub projects: Vec<String>,
    pub unchanged: usize,
    /// Left for the next run: in use now.
    pub active: usize,
    /// Sessions ccx had recorded itself, or with nothing in them.
    pub already_kept: usize,
    pub failed: Vec<String>,
    /// The run stopped early (the session ended, or its time was up).
    pub stopped: bool,
    /// Another ccx was archiving: this run did nothing.
    pub busy: bool,
}

/// How one run behaves.
pub struct Options<'a> {
    pub claude_config: PathBuf,
    pub data_dir: PathBuf,
    /// Look at every quiet transcript again, not only new or grown ones.
    pub again: bool,
    /// Try again the transcripts whose import failed before.
    pub retry_failed: bool,
    /// Wait this long for another run to finish (zero: skip at once when one runs).
    pub wait_for_lock: Duration,
    /// Stop before the next transcript once set.
    pub stop: &'a AtomicBool,
    /// Start no new transcript after this instant.
    pub deadline: Option<std::time::Instant>,
    /// An already open store for one project (the session's own), used instead of a second open.
    pub open: Option<(PathBuf, Arc<Store>)>,
}

/// One pass of the retention guard (see the module doc).
pub fn run(opts: &Options<'_>) -> Result<Summary> {
    let Some(_lock) = RunLock::acquire(&opts.data_dir, opts.wait_for_lock)? else {
        return Ok(Summary {
            busy: true,
            ..Default::default()
        });
    };
    let mut state = State::load(&opts.data_dir);
    let found = scan(&opts.claude_config);
    let plan = plan(
        found,
        &state,
        SystemTime::now(),
        opts.again,
        opts.retry_failed,
    );
    let mut summary = Summary {
        unchanged: plan.unchanged,
        active: plan.active.len(),
        ..Default::default()
    };
    if plan.todo.is_empty() {
        return Ok(summary);
    }
    let mut by_project: BTreeMap<Option<PathBuf>, Vec<Found>> = BTreeMap::new();
    for f in plan.todo {
        by_project.entry(project_of(&f.path)).or_default().push(f);
    }
    for (project, files) in by_project {
        if stopping(opts) {
            summary.stopped = true;
            break;
        }
        let Some(project) = project else {
            for f in &files {
                remember(&mut state, f, Outcome::NoProject);
            }
            continue;
        };
        archive_project(opts, &project, &files, &mut state, &mut summary);
        state.save(&opts.data_dir)?;
    }
    state.save(&opts.data_dir)?;
    Ok(summary)
}

fn stopping(opts: &Options<'_>) -> bool {
    opts.stop.load(Ordering::Relaxed)
        || opts
            .deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
}

fn remember(state: &mut State, f: &Found, outcome: Outcome) {
    state.files.insert(
        f.path.to_string_lossy().into_owned(),
        Mark {
            size: f.size,
            mtime_ns: f.mtime_ns(),
            outcome,
        },
    );
}

/// Imports one project's new or grown transcripts into its store.
fn archive_project(
    opts: &Options<'_>,
    project: &Path,
    files: &[Found],
    state: &mut State,
    summary: &mut Summary,
) {
    let store = match open_project_store(opts, project) {
        Ok(store) => store,
        Err(err) => {
            let why = format!("{}: {err:#}", project.display());
            crate::diag::log(&format!("archive: cannot open the log of {why}"));
            summary.failed.push(why);
            return;
        }
    };
    let known = match crate::commands::import::Known::gather(&store) {
        Ok(known) => known,
        Err(err) => {
            summary
                .failed
                .push(format!("{}: {err:#}", project.display()));
            return;
        }
    };
    let mut received = false;
    let paths: Vec<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    for f in crate::fork_order::originals_first(&paths)
        .into_iter()
        .map(|i| &files[i])
    {
        if stopping(opts) {
            summary.stopped = true;
            break;
        }
        let outcome =
            match crate::commands::import::import_transcript(&store, &f.path, &known, false) {
                Ok(report) if report.turns > 0 => {
                    summary.sessions += 1;
                    summary.turns += report.turns;
                    received = true;
                    Outcome::Archived
                }
                Ok(report) => match report.skipped.as_deref() {
                    Some("empty transcript") => Outcome::Empty,
                    Some(_) => {
                        summary.already_kept += 1;
                        Outcome::Recorded
                    }
                    // Imported before, nothing new since (a deleted branch stays deleted).
                    None => Outcome::Archived,
                },
                Err(err) => {
                    let why = format!("{}: {err:#}", f.path.display());
                    crate::diag::log(&format!("archive: cannot import {why}"));
                    summary.failed.push(why);
                    Outcome::Failed
                }
            };
        remember(state, f, outcome);
    }
    if received {
        summary.projects.push(project.display().to_string());
    }
}

fn open_project_store(opts: &Options<'_>, project: &Path) -> Result<Arc<Store>> {
    if let Some((open_project, store)) = &opts.open {
        if open_project == project {
            return Ok(store.clone());
        }
    }
    let dir = crate::paths::project_store_dir(&opts.data_dir, project);
    let store = Store::open(&dir)?;
    crate::paths::remember_project(&dir, project);
    Ok(Arc::new(store))
}

/// `<data dir>/archive.lock`, held (flock) for one run.
struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    /// The lock, or None when another process kept it for all of `wait`.
    fn acquire(data_dir: &Path, wait: Duration) -> Result<Option<RunLock>> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        crate::paths::ensure_private_dir(data_dir)?;
        let path = data_dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let deadline = std::time::Instant::now() + wait;
        loop {
            // SAFETY: a valid open file descriptor.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(Some(RunLock { _file: file }));
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The background pass of a session; [`Background::finish`] stops it.
pub struct Background {
    stop: Arc<AtomicBool>,
    done: std::sync::mpsc::Receiver<()>,
}

/// Starts the background pass at a session's start, unless `enabled` is false: a thread at
/// the lowest CPU priority that waits for the session's own store (so it never races the
/// recorder for it) and then archives every project. Problems go to the diagnostic log.
pub fn start_in_background(
    enabled: bool,
    slot: crate::store_slot::StoreSlot,
    cwd: &Path,
) -> Option<Background> {
    if !enabled {
        return None;
    }
    let claude_config = crate::claude::paths::config_dir()?;
    let data_dir = crate::paths::data_dir().ok()?;
    let project = crate::paths::project_dir(cwd);
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, done) = std::sync::mpsc::channel();
    let flag = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("ccx-archive".into())
        .spawn(move || {
            lowest_priority();
            let open = slot
                .get(Duration::from_secs(30))
                .ok()
                .map(|store| (project, store));
            let opts = Options {
                claude_config,
                data_dir,
                again: false,
                retry_failed: false,
                wait_for_lock: Duration::ZERO,
                stop: &flag,
                deadline: Some(std::time::Instant::now() + BACKGROUND_BUDGET),
                open,
            };
            match run(&opts) {
                Ok(s) if s.sessions > 0 || !s.failed.is_empty() => crate::diag::log(&format!(
                    "archive: kept {} session(s), {} turn(s); {} failed",
                    s.sessions,
                    s.turns,
                    s.failed.len()
                )),
                Ok(_) => {}
                Err(err) => crate::diag::log(&format!("archive: {err:#}")),
            }
            let _ = tx.send(());
        });
    spawned.ok().map(|_| Background { stop, done })
}

impl Background {
    /// Asks the pass to stop before its next transcript and waits at most `wait` for it.
    pub fn finish(self, wait: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.done.recv_timeout(wait);
    }
}

/// Puts the calling thread (and the threads it starts) at the lowest CPU priority.
fn lowest_priority() {
    // SAFETY: plain system calls on this thread's own id.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

/// Claude Code's retention in days: `cleanupPeriodDays` from its user settings, else 30.
pub fn retention_days(claude_config: &Path) -> u64 {
    std::fs::read(claude_config.join("settings.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.get("cleanupPeriodDays").and_then(|d| d.as_u64()))
        .unwrap_or(DEFAULT_RETENTION_DAYS)
}

#[cfg(test)]
mod tests;
