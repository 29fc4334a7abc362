//! Restores files from the effects journal, without ever destroying anything.
//!
//! A restore puts a set of paths back as a snapshot tree holds them. Before touching a file it
//! snapshots the project as it stands (so the restore itself can be undone), then, per path:
//! - unchanged → left alone;
//! - changed outside Claude since the journal's latest snapshot → the person's version is
//!   copied aside (`kept/<restore id>/PATH` in the project's effects folder, and listed) before
//!   being replaced;
//! - absent from the target → removed only when the journal saw that file created (by a tool
//!   call or an earlier restore); any other file is left where it is, and listed;
//! - else written back, byte for byte, with its mode.
//!
//! Every object the restore needs is checked first: with one missing, nothing is changed. The
//! restore ends with a snapshot and a `restore` line in the journal (trees before and after,
//! what changed, what was kept aside).

use super::journal::{self, Kind, Record};
use super::side::{Change, Entry, SideRepo, Verb, UNHURRIED};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to restore.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The tree to take the files from.
    pub target: String,
    /// Paths (files, or folders meaning everything under them) relative to the work tree;
    /// "" means every file.
    pub scope: Vec<String>,
    /// One line for the journal and the history ("call 12.1, before").
    pub description: String,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The restore's id in the journal.
    pub id: String,
    /// The tree before the restore: restoring it (over `changes`) undoes this one.
    pub before: String,
    /// The tree after.
    pub after: String,
    pub written: Vec<String>,
    pub removed: Vec<String>,
    /// Files absent from the target that the journal never saw created: left in place.
    pub left: Vec<String>,
    /// Files changed outside Claude, copied aside before being replaced: (path, copy).
    pub kept_aside: Vec<(String, PathBuf)>,
    /// What changed, as the journal records it.
    pub changes: Vec<Change>,
}

impl Report {
    /// One line for the person.
    pub fn summary(&self) -> String {
        let files = |n: usize| if n == 1 { "file" } else { "files" };
        let mut text = format!(
            "restored {} {}, removed {}",
            self.written.len(),
            files(self.written.len()),
            self.removed.len()
        );
        if !self.left.is_empty() {
            text.push_str(&format!(
                "; left {} ccx never saw created: {}",
                self.left.len(),
                self.left.join(", ")
            ));
        }
        if let Some((_, copy)) = self.kept_aside.first() {
            let names: Vec<&str> = self.kept_aside.iter().map(|(p, _)| p.as_str()).collect();
            let folder = copy
                .ancestors()
                .nth(names[0].matches('/').count() + 1)
                .unwrap_or(copy);
            text.push_str(&format!(
                "; changed outside Claude, kept aside in {}: {}",
                folder.display(),
                names.join(", ")
            ));
        }
        if self.written.is_empty() && self.removed.is_empty() {
            text = "nothing to restore: the files are already as they were".to_string();
        }
        text
    }
}

/// Runs `plan` (see the module doc). Holds the project's snapshot lock throughout.
pub fn restore(repo: &SideRepo, plan: &Plan) -> Result<Report> {
    if !repo.has_tree(&plan.target) {
        bail!(
            "the journal's snapshot {} is missing from {}; nothing was changed",
            short(&plan.target),
            repo.dir().display()
        );
    }
    let deadline = Instant::now() + UNHURRIED;
    let _lock = repo.lock(deadline)?;
    let records = journal::read_all(repo.dir())?;
    let current = repo.snapshot_locked(deadline)?.tree;
    let want = repo.entries(&plan.target, deadline)?;
    let have = repo.entries(&current, deadline)?;
    let known = match journal::last_tree(&records).filter(|t| repo.has_tree(t)) {
        Some(tree) => repo.entries(&tree, deadline)?,
        None => have.clone(),
    };
    let created = created_paths(repo, &records, deadline);
    let paths = scoped_paths(&plan.scope, &want, &have)?;

    let Decisions {
        to_write,
        to_remove,
        left,
        aside,
    } = decide(paths, &want, &have, &known, &created);
    let oids: Vec<&str> = to_write.iter().map(|p| want[p].oid.as_str()).collect();
    if let Some(oid) = repo.missing_objects(&oids, deadline)?.first() {
        bail!(
            "the journal is missing object {} (a file of snapshot {}); nothing was changed",
            short(oid),
            short(&plan.target)
        );
    }

    let id = format!(
        "restore-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let kept_aside = keep_aside(repo, &id, &aside)?;
    let mut removed = Vec::new();
    for path in &to_remove {
        if remove_file(repo.work_tree(), path).with_context(|| {
            format!(
                "removing {path} (the state before is snapshot {})",
                short(&current)
            )
        })? {
            removed.push(path.clone());
        }
    }
    repo.checkout(&plan.target, &to_write)
        .with_context(|| format!("the state before is snapshot {}", short(&current)))?;
    let after = repo.snapshot_locked(deadline)?.tree;
    let changes = repo.changes(&current, &after, deadline)?;
    let copies: Vec<String> = kept_aside
        .iter()
        .map(|(_, copy)| copy.display().to_string())
        .collect();
    let record = restore_record(&id, &plan.description, &current, &after, &changes, copies);
    journal::append(repo.dir(), &record)?;
    Ok(Report {
        id,
        before: current,
        after,
        written: to_write,
        removed,
        left,
        kept_aside,
        changes,
    })
}

/// The journal's line for a restore.
fn restore_record(
    id: &str,
    description: &str,
    before: &str,
    after: &str,
    changes: &[Change],
    kept_aside: Vec<String>,
) -> Record {
    Record {
        kind: Kind::Restore,
        at: crate::model::now_rfc3339(),
        session_id: None,
        prompt_id: None,
        id: id.to_string(),
        tool: "restore".into(),
        subject: description.to_string(),
        tree: Some(after.to_string()),
        before: Some(before.to_string()),
        changes: changes.to_vec(),
        skipped: Vec::new(),
        kept_aside,
        note: None,
        millis: 0,
    }
}

/// What a restore does to each path it covers.
struct Decisions {
    to_write: Vec<String>,
    to_remove: Vec<String>,
    /// Absent from the target but never seen created: left in place.
    left: Vec<String>,
    /// Changed outside Claude: copied aside before being replaced or removed.
    aside: Vec<String>,
}

/// Decides, per path, between leaving it, writing the target's version, removing it (only a
/// file the journal saw created) and keeping the person's version aside first (see the module
/// doc). `known` is the journal's latest snapshot, `created` what it saw created.
fn decide(
    paths: BTreeSet<String>,
    want: &BTreeMap<String, Entry>,
    have: &BTreeMap<String, Entry>,
    known: &BTreeMap<String, Entry>,
    created: &BTreeSet<String>,
) -> Decisions {
    let mut d = Decisions {
        to_write: Vec::new(),
        to_remove: Vec::new(),
        left: Vec::new(),
        aside: Vec::new(),
    };
    for path in paths {
        let (w, h) = (want.get(&path), have.get(&path));
        if w == h || is_gitlink(w) || is_gitlink(h) {
            continue;
        }
        let outside = h.is_some() && known.get(&path) != h;
        if w.is_none() && !created.contains(&path) {
            d.left.push(path);
            continue;
        }
        if outside {
            d.aside.push(path.clone());
        }
        if w.is_none() {
            d.to_remove.push(path);
        } else {
            d.to_write.push(path);
        }
    }
    d
}

/// The paths `scope` names among the files of both trees. A scope entry naming nothing in
/// either is an error (nothing is changed).
fn scoped_paths(
    scope: &[String],
    want: &BTreeMap<String, Entry>,
    have: &BTreeMap<String, Entry>,
) -> Result<BTreeSet<String>> {
    let all: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
    let mut out = BTreeSet::new();
    for item in scope {
        let item = item.trim_end_matches('/');
        let before = out.len();
        for path in &all {
            let under = item.is_empty()
                || path.as_str() == item
                || path
                    .strip_prefix(item)
                    .is_some_and(|rest| rest.starts_with('/'));
            if under {
                out.insert((*path).clone());
            }
        }
        if out.len() == before && !item.is_empty() && !all.iter().any(|p| p.as_str() == item) {
            bail!("{item}: no such file in the snapshot or on disk; nothing was changed");
        }
    }
    Ok(out)
}

/// Every path the journal saw created, working out the changes of lines that lack them.
fn created_paths(repo: &SideRepo, records: &[Record], deadline: Instant) -> BTreeSet<String> {
    let mut created = BTreeSet::new();
    let mut pre_trees: BTreeMap<&str, &str> = BTreeMap::new();
    for record in records {
        if record.kind == Kind::Pre {
            if let Some(tree) = &record.tree {
                pre_trees.insert(&record.id, tree);
            }
            continue;
        }
        let mut changes = record.changes.clone();
        if changes.is_empty() {
            let before = record
                .before
                .as_deref()
                .or_else(|| pre_trees.get(record.id.as_str()).copied());
            if let (Some(before), Some(after)) = (before, &record.tree) {
                changes = repo.changes(before, after, deadline).unwrap_or_default();
            }
        }
        created.extend(
            changes
                .into_iter()
                .filter(|c| c.verb == Verb::Added)
                .map(|c| c.path),
        );
    }
    created
}

fn is_gitlink(entry: Option<&Entry>) -> bool {
    entry.is_some_and(|e| e.mode == "160000")
}

/// Copies each of `paths` (as it is on disk) into `kept/<id>/PATH`; returns (path, copy).
fn keep_aside(repo: &SideRepo, id: &str, paths: &[String]) -> Result<Vec<(String, PathBuf)>> {
    let mut kept = Vec::new();
    for path in paths {
        let from = repo.work_tree().join(path);
        let to = repo.dir().join("kept").join(id).join(path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let meta = std::fs::symlink_metadata(&from)?;
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else {
            std::fs::copy(&from, &to)
                .with_context(|| format!("cannot keep {path} aside in {}", to.display()))?;
        }
        kept.push((path.clone(), to));
    }
    Ok(kept)
}

/// Removes one file or link of the work tree, then the folders it leaves empty. False when
/// there was nothing (or a folder) there.
fn remove_file(root: &Path, path: &str) -> Result<bool> {
    let rel = Path::new(path);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        bail!("refusing to remove a path outside the project");
    }
    let abs = root.join(rel);
    match std::fs::symlink_metadata(&abs) {
        Ok(meta) if meta.is_dir() => return Ok(false),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    std::fs::remove_file(&abs)?;
    let mut dir = abs.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(true)
}

/// The first 12 characters of an id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects::hook;
    use serde_json::json;
    use std::time::Duration;

    struct World {
        _tmp: tempfile::TempDir,
        repo: SideRepo,
    }

    impl World {
        fn new() -> World {
            let (tmp, repo) = crate::effects::test_repos::side_repo();
            World { _tmp: tmp, repo }
        }

        fn path(&self, rel: &str) -> PathBuf {
            self.repo.work_tree().join(rel)
        }

        fn write(&self, rel: &str, text: &str) {
            std::fs::write(self.path(rel), text).unwrap();
        }

        fn read(&self, rel: &str) -> Option<String> {
            std::fs::read_to_string(self.path(rel)).ok()
        }

        /// A tool call as the hooks record it: pre snapshot, `act`, post snapshot.
        fn call(&self, id: &str, act: impl FnOnce()) -> journal::Call {
            let soon = || Instant::now() + Duration::from_secs(60);
            let payload = |event: &str| {
                json!({"hook_event_name": event, "session_id": "s", "prompt_id": "p",
                       "tool_name": "Bash", "tool_use_id": id, "tool_input": {"command": id}})
            };
            hook::record_in(&self.repo, &payload("PreToolUse"), soon()).unwrap();
            act();
            hook::record_in(&self.repo, &payload("PostToolUse"), soon()).unwrap();
            let turn = crate::model::Turn {
                session_id: "s".into(),
                prompt_id: Some("p".into()),
                ..Default::default()
            };
            crate::effects::turns::calls_of(&self.repo, &turn)
                .unwrap()
                .into_iter()
                .find(|c| c.id == id)
                .unwrap()
        }

        fn restore(&self, tree: &str, scope: &[&str]) -> Result<Report> {
            restore(
                &self.repo,
                &Plan {
                    target: tree.to_string(),
                    scope: scope.iter().map(|s| s.to_string()).collect(),
                    description: "test".into(),
                },
            )
        }
    }

    #[test]
    fn a_call_is_undone_byte_exact_and_the_undo_is_undone() {
        let w = World::new();
        w.write("a.txt", "hello\n");
        w.write("b.txt", "bye\n");
        let call = w.call("t1", || {
            w.write("a.txt", "HELLO\n");
            std::fs::remove_file(w.path("b.txt")).unwrap();
        });
        let verbs: Vec<(Verb, &str)> = call
            .changes
            .iter()
            .map(|c| (c.verb, c.path.as_str()))
            .collect();
        assert_eq!(verbs, [(Verb::Modified, "a.txt"), (Verb::Deleted, "b.txt")]);
        let paths: Vec<&str> = call.changes.iter().map(|c| c.path.as_str()).collect();
        let report = w.restore(call.before.as_deref().unwrap(), &paths).unwrap();
        assert_eq!(w.read("a.txt").as_deref(), Some("hello\n"));
        assert_eq!(w.read("b.txt").as_deref(), Some("bye\n"));
        assert_eq!(report.written, ["a.txt", "b.txt"]);
        // Undo: the tree before the restore, over what it changed; b.txt was created by it.
        let scope: Vec<&str> = report.changes.iter().map(|c| c.path.as_str()).collect();
        let undo = w.restore(&report.before, &scope).unwrap();
        assert_eq!(w.read("a.txt").as_deref(), Some("HELLO\n"));
        assert_eq!(w.read("b.txt"), None);
        assert_eq!(undo.removed, ["b.txt"]);
    }

    #[test]
    fn a_file_never_seen_created_is_never_deleted() {
        let w = World::new();
        let call = w.call("t1", || w.write("made.txt", "by claude"));
        // The person's own file, made after the call, is outside any call.
        w.write("mine.txt", "mine");
        let report = w.restore(call.before.as_deref().unwrap(), &[""]).unwrap();
        assert_eq!(report.removed, ["made.txt"]);
        assert_eq!(report.left, ["mine.txt"]);
        assert_eq!(w.read("mine.txt").as_deref(), Some("mine"));
    }

    #[test]
    fn a_file_changed_outside_claude_is_kept_aside() {
        let w = World::new();
        w.write("a.txt", "v1");
        let call = w.call("t1", || w.write("a.txt", "v2 by claude"));
        w.write("a.txt", "v3 by the person");
        let report = w
            .restore(call.before.as_deref().unwrap(), &["a.txt"])
            .unwrap();
        assert_eq!(w.read("a.txt").as_deref(), Some("v1"));
        assert_eq!(report.kept_aside.len(), 1);
        let copy = &report.kept_aside[0].1;
        assert_eq!(std::fs::read_to_string(copy).unwrap(), "v3 by the person");
        assert!(
            report.summary().contains("kept aside"),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn bad_restores_change_nothing() {
        let w = World::new();
        w.write("a.txt", "v1");
        let call = w.call("t1", || w.write("a.txt", "v2"));
        let before = call.before.clone().unwrap();
        let lines = journal::read_all(w.repo.dir()).unwrap().len();
        let err = w.restore(&before, &["nope.txt"]).unwrap_err();
        assert!(
            format!("{err:#}").contains("nope.txt: no such file"),
            "{err:#}"
        );
        let err = w
            .restore("0123456789abcdef0123456789abcdef01234567", &["a.txt"])
            .unwrap_err();
        assert!(format!("{err:#}").contains("is missing"), "{err:#}");
        // A blob gone from the side repository: found before anything is written.
        let blob = w.repo.entries(&before, Instant::now() + UNHURRIED).unwrap()["a.txt"]
            .oid
            .clone();
        let objects = w.repo.dir().join("git/objects");
        crate::effects::pack::unpack_all(&objects).unwrap();
        std::fs::remove_file(objects.join(&blob[..2]).join(&blob[2..])).unwrap();
        let err = w.restore(&before, &["a.txt"]).unwrap_err();
        assert!(format!("{err:#}").contains("missing object"), "{err:#}");
        assert_eq!(w.read("a.txt").as_deref(), Some("v2"));
        // No restore line was written by any of them.
        let records = journal::read_all(w.repo.dir()).unwrap();
        assert_eq!(
            records.iter().filter(|r| r.kind == Kind::Restore).count(),
            0
        );
        assert!(records.len() >= lines);
    }
}
