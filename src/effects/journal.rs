//! The effects journal of a project: one JSON line per event, appended to `journal.jsonl` in
//! the project's effects folder (see [`super::side`]). A tool call leaves a `pre` line (the
//! tree before it) and a `post` line (the tree after, and a copy of the tree before; the files
//! the call added, modified or deleted are worked out from the two when read); a restore leaves a `restore` line (the trees before and after it, what it changed
//! and what it kept aside). A line whose snapshot did not fit the hook's budget has no tree
//! and says why.
//!
//! A turn's calls are the lines with its session and `prompt_id` (the id Claude Code's hooks
//! give every event of one prompt), or, for a turn recorded without one, the lines of its
//! session between its start and its end. [`calls_of_turn`] pairs the lines into [`Call`]s,
//! numbered from 1 in the order they started.

use super::side::Change;
use crate::model::Turn;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file name of the journal in the project's effects folder.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// What a line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Before a tool call.
    Pre,
    /// After a tool call (also after one that failed).
    Post,
    /// A restore ccx made (`ccx restore`, `:restore`, `--code`, `:undo`).
    Restore,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub kind: Kind,
    /// RFC 3339.
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_id: Option<String>,
    /// Claude's `tool_use_id`, or the restore's own id.
    pub id: String,
    /// The tool (`Bash`, `Edit`, ...), or `restore`.
    pub tool: String,
    /// The command a Bash call ran, or the path a file tool wrote; a restore's description.
    #[serde(default)]
    pub subject: String,
    /// The tree the snapshot made; None when it was not snapshotted (see `note`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree: Option<String>,
    /// `post`, `restore`: the tree before (a post's copy of its pre's, for reading it alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// `post`, `restore`: what changed between `before` and `tree`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Files left out for their size.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// `restore`: files changed outside Claude, saved aside before being replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_aside: Vec<String>,
    /// Why there is no tree, or anything else worth saying (a failed call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How long the snapshot took, in milliseconds.
    #[serde(default)]
    pub millis: u64,
}

/// One tool call of a turn, as the journal saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// 1, 2, ... within the turn.
    pub number: usize,
    pub id: String,
    pub tool: String,
    pub subject: String,
    pub started_at: String,
    /// The tree before the call; None when not snapshotted.
    pub before: Option<String>,
    /// The tree after it; None when not snapshotted (or the call has not ended).
    pub after: Option<String>,
    pub changes: Vec<Change>,
    pub skipped: Vec<String>,
    /// Why a snapshot is missing, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Call {
    /// True when both snapshots exist.
    pub fn snapshotted(&self) -> bool {
        self.before.is_some() && self.after.is_some()
    }
}

/// The journal file of the effects folder `dir`.
pub fn journal_path(dir: &Path) -> PathBuf {
    dir.join(JOURNAL_FILE)
}

/// Appends one line (the caller holds the project's snapshot lock, or accepts interleaving
/// of whole lines: each is one `write`).
pub fn append(dir: &Path, record: &Record) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = journal_path(dir);
    let mut line = serde_json::to_vec(record)?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // A line torn by a crash must not swallow this one.
    if ends_without_newline(&file) {
        line.insert(0, b'\n');
    }
    file.write_all(&line)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn ends_without_newline(file: &std::fs::File) -> bool {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut last = [0u8; 1];
    len > 0 && file.read_exact_at(&mut last, len - 1).is_ok() && last[0] != b'\n'
}

/// Every line of the journal, in order; lines that do not parse are skipped.
pub fn read_all(dir: &Path) -> Result<Vec<Record>> {
    let path = journal_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

/// Whether `record` belongs to `turn`: its session and prompt id, or (a turn without a prompt
/// id) its session within the turn's time.
fn belongs(record: &Record, turn: &Turn) -> bool {
    if record.session_id.as_deref() != Some(turn.session_id.as_str()) {
        return false;
    }
    match (&turn.prompt_id, &record.prompt_id) {
        (Some(turn_prompt), Some(prompt)) => turn_prompt == prompt,
        _ => {
            record.at.as_str() >= turn.started_at.as_str()
                && turn
                    .ended_at
                    .as_deref()
                    .is_none_or(|end| record.at.as_str() <= end)
        }
    }
}

/// The tool calls of `turn`, numbered in the order they started.
pub fn calls_of_turn(records: &[Record], turn: &Turn) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    for record in records.iter().filter(|r| belongs(r, turn)) {
        let existing = calls.iter_mut().find(|c| c.id == record.id);
        match (record.kind, existing) {
            (Kind::Restore, _) => {}
            (Kind::Pre, Some(_)) => {}
            (Kind::Pre, None) => calls.push(Call {
                number: calls.len() + 1,
                id: record.id.clone(),
                tool: record.tool.clone(),
                subject: record.subject.clone(),
                started_at: record.at.clone(),
                before: record.tree.clone(),
                after: None,
                changes: Vec::new(),
                skipped: record.skipped.clone(),
                note: record.note.clone(),
            }),
            (Kind::Post, Some(call)) => fill_post(call, record),
            (Kind::Post, None) => {
                let mut call = Call {
                    number: calls.len() + 1,
                    id: record.id.clone(),
                    tool: record.tool.clone(),
                    subject: record.subject.clone(),
                    started_at: record.at.clone(),
                    before: None,
                    after: None,
                    changes: Vec::new(),
                    skipped: Vec::new(),
                    note: None,
                };
                fill_post(&mut call, record);
                calls.push(call);
            }
        }
    }
    calls
}

fn fill_post(call: &mut Call, post: &Record) {
    call.after = post.tree.clone();
    if call.before.is_none() {
        call.before = post.before.clone();
    }
    call.changes = post.changes.clone();
    for skipped in &post.skipped {
        if !call.skipped.contains(skipped) {
            call.skipped.push(skipped.clone());
        }
    }
    if post.note.is_some() {
        call.note = match call.note.take() {
            Some(pre) => Some(format!("{pre}; {}", post.note.as_deref().unwrap_or(""))),
            None => post.note.clone(),
        };
    }
}

/// The tree of the latest snapshot in the journal: the files as ccx last saw them.
pub fn last_tree(records: &[Record]) -> Option<String> {
    records.iter().rev().find_map(|r| r.tree.clone())
}

/// Whether the journal ever saw `path` created (by a tool call or a restore).
pub fn saw_created(records: &[Record], path: &str) -> bool {
    records.iter().any(|r| {
        r.changes
            .iter()
            .any(|c| c.verb == super::side::Verb::Added && c.path == path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::side::Verb;
    use crate::ids::TurnId;

    fn record(kind: Kind, id: &str, prompt: Option<&str>, at: &str) -> Record {
        Record {
            kind,
            at: at.into(),
            session_id: Some("s1".into()),
            prompt_id: prompt.map(str::to_string),
            id: id.into(),
            tool: "Bash".into(),
            subject: format!("cmd {id}"),
            tree: Some(format!("tree-{id}-{kind:?}")),
            before: None,
            changes: Vec::new(),
            skipped: Vec::new(),
            kept_aside: Vec::new(),
            note: None,
            millis: 1,
        }
    }

    fn turn(prompt: Option<&str>) -> Turn {
        Turn {
            id: TurnId(3),
            session_id: "s1".into(),
            prompt_id: prompt.map(str::to_string),
            started_at: "2026-01-01T00:00:00.000Z".into(),
            ended_at: Some("2026-01-01T00:01:00.000Z".into()),
            ..Default::default()
        }
    }

    #[test]
    fn calls_pair_pre_and_post_lines_of_the_turn() {
        let mut post = record(Kind::Post, "t1", Some("p"), "2026-01-01T00:00:02.000Z");
        post.changes = vec![Change {
            verb: Verb::Deleted,
            path: "b".into(),
        }];
        let records = vec![
            record(Kind::Pre, "t1", Some("p"), "2026-01-01T00:00:01.000Z"),
            record(Kind::Pre, "other", Some("q"), "2026-01-01T00:00:01.500Z"),
            post,
            record(Kind::Pre, "t2", Some("p"), "2026-01-01T00:00:03.000Z"),
        ];
        let calls = calls_of_turn(&records, &turn(Some("p")));
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].number, 1);
        assert_eq!(calls[0].before.as_deref(), Some("tree-t1-Pre"));
        assert_eq!(calls[0].after.as_deref(), Some("tree-t1-Post"));
        assert_eq!(calls[0].changes.len(), 1);
        assert!(calls[0].snapshotted());
        assert_eq!(calls[1].id, "t2");
        assert!(!calls[1].snapshotted(), "no post yet");
        assert_eq!(last_tree(&records).as_deref(), Some("tree-t2-Pre"));
        assert!(!saw_created(&records, "b"));
    }

    #[test]
    fn a_turn_without_prompt_id_takes_its_sessions_lines_in_its_time() {
        let records = vec![
            record(Kind::Pre, "early", None, "2025-12-31T23:59:59.000Z"),
            record(Kind::Pre, "in", None, "2026-01-01T00:00:30.000Z"),
            record(Kind::Pre, "late", None, "2026-01-01T00:02:00.000Z"),
        ];
        let calls = calls_of_turn(&records, &turn(None));
        assert_eq!(
            calls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["in"]
        );
    }

    #[test]
    fn the_journal_survives_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), &record(Kind::Pre, "a", None, "x")).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal_path(dir.path()))
            .unwrap()
            .write_all(b"{\"kind\":\"po")
            .unwrap();
        append(dir.path(), &record(Kind::Pre, "b", None, "y")).unwrap();
        let records = read_all(dir.path()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].id, "b");
    }
}
