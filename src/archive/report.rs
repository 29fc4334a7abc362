//! What the retention guard tells people: `ccx archive`'s summary, and `ccx doctor`'s line
//! with Claude Code's retention period, what is archived and what is at risk.

use super::{plan, scan, Options, State, Summary, QUIET};
use crate::commands::import::Known;
use crate::ids::SessionId;
use crate::store::Store;
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

/// How long `ccx archive` waits for a run in another ccx to finish.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// `ccx archive [--again] [--json]`.
pub fn command(again: bool, json: bool) -> Result<i32> {
    let claude_config = crate::claude::paths::require_config_dir()?;
    let data_dir = crate::paths::data_dir()?;
    let stop = AtomicBool::new(false);
    let summary = super::run(&Options {
        claude_config,
        data_dir,
        again,
        retry_failed: true,
        wait_for_lock: LOCK_WAIT,
        stop: &stop,
        deadline: None,
        open: None,
    })?;
    if json {
        serde_json::to_writer_pretty(std::io::stdout().lock(), &summary)?;
        println!();
    } else {
        print!("{}", describe(&summary));
    }
    Ok(if summary.failed.is_empty() && !summary.busy {
        0
    } else {
        1
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary in a few plain lines.
pub fn describe(s: &Summary) -> String {
    if s.busy {
        return "another ccx is archiving now; nothing done (try again in a minute)\n".into();
    }
    let mut text = if s.sessions == 0 {
        "nothing new to archive".to_string()
    } else {
        format!(
            "archived {} ({}) from {}: {}",
            plural(s.sessions, "session", "sessions"),
            plural(s.turns, "turn", "turns"),
            plural(s.projects.len(), "project", "projects"),
            s.projects.join(", ")
        )
    };
    let mut also = Vec::new();
    if s.unchanged + s.already_kept > 0 {
        also.push(format!("{} already kept", s.unchanged + s.already_kept));
    }
    if s.active > 0 {
        also.push(format!(
            "{} in use now (written in the last {} minutes), left for the next run",
            s.active,
            QUIET.as_secs() / 60
        ));
    }
    if !also.is_empty() {
        text.push_str(&format!("; {}", also.join("; ")));
    }
    text.push('\n');
    for failure in &s.failed {
        text.push_str(&format!("ccx: cannot archive {failure}\n"));
    }
    text
}

/// Where the person's transcripts stand against Claude Code's sweep.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Standing {
    pub retention_days: u64,
    pub total: usize,
    /// In ccx's log: archived, or recorded by ccx as it ran.
    pub kept: usize,
    /// Not (or no longer fully) in ccx's log.
    pub at_risk: usize,
    /// Days until Claude Code may delete the oldest transcript at risk (0: at its next start).
    pub soonest_days: Option<u64>,
}

/// Counts the transcripts under `claude_config` against the marks in `data_dir`.
pub fn standing(claude_config: &std::path::Path, data_dir: &std::path::Path) -> Standing {
    let state = State::load(data_dir);
    let found = scan(claude_config);
    let total = found.len();
    let now = SystemTime::now();
    let retention_days = super::retention_days(claude_config);
    let retention = Duration::from_secs(retention_days * 86_400);
    let mut standing = Standing {
        retention_days,
        total,
        ..Default::default()
    };
    let looked = plan(found, &state, now, false, true);
    standing.kept = looked.unchanged;
    let mut logs = ProjectLogs::new(data_dir);
    for f in looked.todo.iter().chain(looked.active.iter()) {
        if logs.hold_session_of(&f.path) {
            // Recorded as it ran: the next archive run marks it kept.
            standing.kept += 1;
            continue;
        }
        standing.at_risk += 1;
        let age = now.duration_since(f.modified).unwrap_or_default();
        let left = retention.saturating_sub(age).as_secs() / 86_400;
        standing.soonest_days = Some(standing.soonest_days.map_or(left, |d| d.min(left)));
    }
    standing
}

/// The turn logs of the projects transcripts belong to, opened (never created) as they are
/// asked about.
struct ProjectLogs<'a> {
    data_dir: &'a std::path::Path,
    /// Project → what its log holds (None: no log, or one that cannot be read).
    known: HashMap<PathBuf, Option<Known>>,
}

impl<'a> ProjectLogs<'a> {
    fn new(data_dir: &'a std::path::Path) -> Self {
        ProjectLogs {
            data_dir,
            known: HashMap::new(),
        }
    }

    /// Whether the log of `transcript`'s project holds its session's turns.
    fn hold_session_of(&mut self, transcript: &std::path::Path) -> bool {
        let (Some(project), Some(session)) =
            (super::project_of(transcript), transcript.file_stem())
        else {
            return false;
        };
        let data_dir = self.data_dir;
        let known = self.known.entry(project).or_insert_with_key(|project| {
            let dir = crate::paths::project_store_dir(data_dir, project);
            if !dir.join("db").is_dir() {
                return None;
            }
            let store = Store::open(&dir).ok()?;
            Known::gather(&store).ok()
        });
        let session = SessionId::from(session.to_string_lossy().as_ref());
        known.as_ref().is_some_and(|k| k.has_session(&session))
    }
}

/// `ccx doctor`'s archive line: a warning (never a failure) when something is at risk.
pub fn doctor_detail(warning: &str) -> Result<String> {
    let claude_config = crate::claude::paths::require_config_dir()?;
    let data_dir = crate::paths::data_dir().context("cannot find ccx's data directory")?;
    let s = standing(&claude_config, &data_dir);
    let (enabled, _) = {
        let (config, problem) = crate::config::Config::load();
        (config.auto_archive, problem)
    };
    let retention = match s.retention_days {
        0 => "Claude Code keeps no transcripts (cleanupPeriodDays = 0)".to_string(),
        d => format!("Claude Code deletes sessions after {d} days (cleanupPeriodDays)"),
    };
    let archived = format!(
        "{} of {} kept in ccx's log",
        s.kept,
        plural(s.total, "Claude Code session", "Claude Code sessions")
    );
    let auto = if enabled {
        "archived in the background at every ccx start"
    } else {
        "auto_archive = false: only `ccx archive` keeps them"
    };
    if s.at_risk == 0 {
        return Ok(format!("{archived}; {retention}; {auto}"));
    }
    let when = match s.soonest_days {
        Some(0) => "the oldest may go at Claude Code's next start".to_string(),
        Some(d) => format!("the oldest may go in {}", plural(d as usize, "day", "days")),
        None => String::new(),
    };
    Ok(format!(
        "{warning}{} not archived yet ({when}): run `ccx archive`\n{archived}; {retention}; {auto}",
        plural(s.at_risk, "session", "sessions")
    ))
}
