//! Checking (`ccx doctor`) and recovery (`ccx doctor --repair`) of a damaged turn log.
//!
//! [`inspect`] verifies every record of a scratch copy: each decodes, each parent and branch
//! head is a stored turn, every branch a turn names exists, and every id given (up to the
//! highest of turns, tombstones of deleted turns and idempotency tokens) is a stored or a
//! deleted turn; it names what is missing.
//!
//! [`recover`] moves the damaged database (`<store>/db`) aside to `<store>/db.damaged-<time>`,
//! which is then never written again, and reads whatever it can from a scratch copy of it:
//!
//! 1. with sled itself: every tree is walked record by record (each step guarded against
//!    errors and panics), and turns are also looked up one id at a time, so records past a
//!    broken node are still found;
//! 2. if sled cannot open the copy at all, the raw files are scanned for JSON turn and branch
//!    records (sled stores values uncompressed), keeping the most complete version of each.
//!
//! Only records that decode completely are kept, so nothing is invented. What survived is
//! written, with its ids, into a fresh database in the same format as [`super::engine`]
//! (turns, branches, entries, sessions, meta, and the import keys when sled could read them),
//! and made consistent: a branch whose head was lost points at its latest surviving turn, a
//! branch record that was lost is rebuilt from its turns, and a link to a lost turn (a parent,
//! a fork point) is cleared. The fresh store is then opened once with [`super::Store`] to prove
//! it works. [`recover_with_transcripts`] first rebuilds lost turns (and lost ends of
//! surviving ones) from Claude Code's transcripts of the project; a lost turn found nowhere
//! is remembered as lost, so the fresh log checks out whole.

use crate::ids::{MetaKey, SessionId, TurnId};
use crate::model::{Branch, Turn};
use crate::transcript::TurnFacts;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Largest raw file the last-resort scan reads.
const MAX_SCAN_FILE: u64 = 1 << 30;
/// Consecutive failed steps after which a tree walk gives up on that tree.
const MAX_STEP_ERRORS: usize = 64;
/// How long a store lock is waited for before the store is taken as in use.
const UNLOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);
/// The same for a look that changes nothing (doctor without --repair): a running ccx is usual.
const INSPECT_UNLOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(500);
/// How far past the last id seen the per-id turn lookup probes.
const PROBE_PAST_LAST: u64 = 1024;

/// How the records were read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// sled opened the damaged copy; records were read through it.
    Sled,
    /// sled could not open it; the raw files were scanned for records (best effort: no
    /// transcript entries, no settings).
    RawScan,
}

/// What [`recover`] kept and where the damaged copy went.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryReport {
    /// The damaged database, moved aside and left as it was.
    pub damaged_copy: PathBuf,
    /// The fresh database now in use.
    pub fresh: PathBuf,
    pub method: Method,
    /// Why sled could not open the damaged copy (with [`Method::RawScan`]).
    pub open_error: Option<String>,
    pub turns: usize,
    /// Turns kept that had finished (`ended_at` set).
    pub finished_turns: usize,
    pub branches: usize,
    /// Branch records rebuilt from their turns because the record itself was lost.
    pub rebuilt_branches: usize,
    /// Turns whose stored transcript entries were kept.
    pub entries: usize,
    pub meta: usize,
    /// Records found but unreadable (skipped), and read errors met while walking.
    pub skipped: usize,
    /// Turns sled no longer read (past the damage) but found by scanning the files.
    pub beyond_damage: usize,
    /// Links to lost turns (parents, heads, fork points) that were cleared or re-pointed.
    pub relinked: usize,
    /// Lost turns rebuilt from Claude Code's transcripts.
    pub rebuilt: usize,
    /// Surviving turns whose lost end (reply, usage) was taken from the transcripts.
    pub completed: usize,
    /// Lost turns found nowhere (remembered as lost).
    pub unrecovered: Vec<TurnId>,
    /// The ids of the turns kept, ascending.
    pub turn_ids: Vec<TurnId>,
}

impl RecoveryReport {
    /// A few plain lines for a person.
    pub fn describe(&self) -> String {
        let how = match self.method {
            Method::Sled => "read through sled".to_string(),
            Method::RawScan => format!(
                "sled could not open it ({}), so its files were scanned for records: transcript entries and settings could not be kept",
                self.open_error.as_deref().unwrap_or("unknown error")
            ),
        };
        let ids = match (self.turn_ids.first(), self.turn_ids.last()) {
            (Some(a), Some(b)) if a == b => format!(" (#{a})"),
            (Some(a), Some(b)) => format!(" (#{a}..#{b})"),
            _ => String::new(),
        };
        let mut out = format!(
            "recovered {} turns{ids} ({} finished), {} branches, transcript entries of {} turns, {} settings into a fresh turn log at {}\n",
            self.turns,
            self.finished_turns,
            self.branches,
            self.entries,
            self.meta,
            self.fresh.display()
        );
        out.push_str(&format!(
            "the damaged copy is kept at {} ({how})\n",
            self.damaged_copy.display()
        ));
        if self.beyond_damage > 0 {
            out.push_str(&format!(
                "{} of those turns lay past the damage and were found by scanning its files\n",
                self.beyond_damage
            ));
        }
        if self.rebuilt > 0 {
            out.push_str(&format!(
                "{} lost turns were rebuilt from Claude Code's transcripts (prompt, reply, usage)\n",
                self.rebuilt
            ));
        }
        if self.completed > 0 {
            out.push_str(&format!(
                "{} turns whose end was lost were completed from Claude Code's transcripts\n",
                self.completed
            ));
        }
        if !self.unrecovered.is_empty() {
            out.push_str(&format!(
                "{} lost turns were found nowhere and are gone ({})\n",
                self.unrecovered.len(),
                id_list(&self.unrecovered)
            ));
        }
        if self.skipped > 0 || self.relinked > 0 || self.rebuilt_branches > 0 {
            out.push_str(&format!(
                "{} unreadable records skipped, {} links to lost turns cleared, {} branch records rebuilt from their turns\n",
                self.skipped, self.relinked, self.rebuilt_branches
            ));
        }
        out
    }
}

/// Everything read back from the damaged copy.
#[derive(Default)]
struct Salvage {
    turns: BTreeMap<TurnId, Turn>,
    branches: BTreeMap<String, Branch>,
    entries: BTreeMap<TurnId, Vec<Value>>,
    meta: BTreeMap<String, Value>,
    sessions: BTreeMap<String, String>,
    /// Import keys (`<source>\0<key>`) → turn id.
    imports: BTreeMap<Vec<u8>, TurnId>,
    /// Deleted turns (id → tombstone record, kept as read).
    deleted: BTreeMap<TurnId, Vec<u8>>,
    /// The highest id an idempotency token names (every begun turn has one).
    token_high: TurnId,
    skipped: usize,
}

/// Moves `store_dir/db` aside to `store_dir/db.damaged-<timestamp>`, reads every intact record
/// from it, and writes them (same ids) into a fresh `store_dir/db`. Refuses while a process
/// holds the database.
pub fn recover(store_dir: &Path) -> Result<RecoveryReport> {
    recover_with_transcripts(store_dir, None)
}

/// [`recover`], also rebuilding the turns the damage took (their prompt, reply, usage and
/// transcript lines) from Claude Code's transcripts of the project in `transcripts` (its
/// folder under `~/.claude/projects`). A lost turn found nowhere is remembered as lost, so
/// the fresh log checks out whole.
pub fn recover_with_transcripts(
    store_dir: &Path,
    transcripts: Option<&Path>,
) -> Result<RecoveryReport> {
    let db = store_dir.join("db");
    if !db.is_dir() {
        bail!("there is no turn log at {} to recover", db.display());
    }
    ensure_unlocked(&db, UNLOCK_WAIT)?;
    let damaged = move_aside(store_dir, &db)?;
    let (mut salvage, method, open_error, beyond) = salvage_from(store_dir, &damaged)?;

    let mut report = RecoveryReport {
        damaged_copy: damaged,
        fresh: db.clone(),
        method,
        open_error,
        turns: 0,
        finished_turns: 0,
        branches: 0,
        rebuilt_branches: 0,
        entries: 0,
        meta: 0,
        skipped: salvage.skipped,
        beyond_damage: beyond,
        relinked: 0,
        rebuilt: 0,
        completed: 0,
        unrecovered: Vec::new(),
        turn_ids: Vec::new(),
    };
    let missing = missing_ids(&salvage);
    if let Some(dir) = transcripts {
        (report.rebuilt, report.completed) = rebuild_from_transcripts(&mut salvage, &missing, dir);
    }
    report.unrecovered = missing_ids(&salvage);
    remember_lost(&mut salvage, &report.unrecovered);
    make_consistent(&mut salvage, &mut report);
    write_fresh(&db, &salvage).context("cannot write the fresh turn log")?;
    restrict(&db);

    count_kept(&mut report, &salvage);

    // Prove the fresh store opens and reads back everything written.
    let store = super::Store::open(store_dir).context("the fresh turn log does not open")?;
    let back = store.all_turns()?.len();
    if back != report.turns {
        bail!(
            "the fresh turn log holds {back} turns, not the {} written",
            report.turns
        );
    }
    Ok(report)
}

/// Moves the damaged database `db` aside (kept as it was, owner-only); where it went.
fn move_aside(store_dir: &Path, db: &Path) -> Result<PathBuf> {
    let damaged = aside_name(store_dir);
    std::fs::rename(db, &damaged).with_context(|| {
        format!(
            "cannot move the damaged turn log {} aside to {}",
            db.display(),
            damaged.display()
        )
    })?;
    restrict(&damaged);
    Ok(damaged)
}

/// What can be read of the `damaged` database: through sled when a copy of it opens (plus
/// the records after the damage that sled stops at), else by scanning its files. Also how,
/// why sled could not open it, and how many records came from beyond the damage.
fn salvage_from(
    store_dir: &Path,
    damaged: &Path,
) -> Result<(Salvage, Method, Option<String>, usize)> {
    // sled may rewrite what it opens; work on a scratch copy so the kept copy stays as it was.
    let scratch = tempfile::Builder::new()
        .prefix(".recover-")
        .tempdir_in(store_dir)
        .context("cannot make a scratch directory for the recovery")?;
    let copy = scratch.path().join("db");
    copy_dir(damaged, &copy).context("cannot copy the damaged turn log for reading")?;
    Ok(match open_copy(&copy) {
        Ok(db) => {
            let mut salvage = read_with_sled(&db);
            drop(db);
            // sled stops at the first damaged part of its log; records written after it may
            // still be in the files.
            let mut raw = scan_raw(damaged);
            // A turn deleted on purpose may still be in the files: it stays deleted.
            raw.turns.retain(|id, _| !salvage.deleted.contains_key(id));
            let beyond = merge_newer(&mut salvage, raw);
            (salvage, Method::Sled, None, beyond)
        }
        Err(e) => (scan_raw(damaged), Method::RawScan, Some(e), 0),
    })
}

/// Remembers the turns `ids`, found nowhere, as lost, so the fresh log checks out whole.
fn remember_lost(salvage: &mut Salvage, ids: &[TurnId]) {
    let now = crate::model::now_rfc3339();
    for id in ids {
        let tombstone = super::format::Tombstone {
            branch: String::new(),
            session_id: SessionId::default(),
            prompt_uuid: None,
            deleted_at: now.clone(),
            lost: true,
        };
        salvage
            .deleted
            .insert(*id, serde_json::to_vec(&tombstone).unwrap_or_default());
    }
}

/// The counts of what the fresh log holds, into `report`.
fn count_kept(report: &mut RecoveryReport, salvage: &Salvage) {
    report.turns = salvage.turns.len();
    report.finished_turns = salvage
        .turns
        .values()
        .filter(|t| t.ended_at.is_some())
        .count();
    report.branches = salvage.branches.len();
    report.entries = salvage.entries.len();
    report.meta = salvage.meta.len();
    report.turn_ids = salvage.turns.keys().copied().collect();
}

/// Fails when a process (ccx) holds the database lock that sled takes on `db/db`.
fn ensure_unlocked(db: &Path, wait: std::time::Duration) -> Result<()> {
    let Ok(file) = std::fs::OpenOptions::new().read(true).open(db.join("db")) else {
        return Ok(()); // no data file: nothing can hold it
    };
    // sled lets go of its lock from a background thread a moment after the database is
    // dropped: a store closed just now (a ccx that just exited) is given that moment.
    let deadline = std::time::Instant::now() + wait;
    let locked = loop {
        // SAFETY: flock on an open descriptor we own.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 || std::time::Instant::now() >= deadline {
            break r != 0;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    if locked {
        bail!(
            "the turn log at {} is in use by a running ccx; quit every ccx of this project and run `ccx doctor --repair` again",
            db.display()
        );
    }
    // Closing the file releases the lock.
    Ok(())
}

fn aside_name(store_dir: &Path) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut path = store_dir.join(format!("db.damaged-{stamp}"));
    let mut n = 1;
    while path.exists() {
        path = store_dir.join(format!("db.damaged-{stamp}-{n}"));
        n += 1;
    }
    path
}

fn restrict(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    super::restrict_permissions(dir);
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "sled panicked".into())
}

/// Runs `f`, turning a panic into an error, with the panic message kept off stderr.
fn guarded<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    QUIET_PANICS.with(|q| q.set(true));
    install_quiet_hook();
    let result = catch_unwind(AssertUnwindSafe(f)).map_err(panic_text);
    QUIET_PANICS.with(|q| q.set(false));
    result
}

thread_local! {
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A panic hook that stays silent for panics inside [`guarded`] (sled asserting on damaged
/// pages would otherwise print backtraces over the report), and defers to the previous hook
/// for everything else.
fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
}

fn open_copy(copy: &Path) -> std::result::Result<sled::Db, String> {
    let config = sled::Config::new()
        .path(copy)
        .cache_capacity(super::CACHE_BYTES);
    match guarded(|| config.open()) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!("sled panicked: {panic}")),
    }
}

/// Every (key, value) of `tree` that can be read, walking past read errors and panics.
fn walk(tree: &sled::Tree, skipped: &mut usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut iter = match guarded(|| tree.iter()) {
        Ok(iter) => iter,
        Err(_) => {
            *skipped += 1;
            return out;
        }
    };
    let mut errors = 0;
    loop {
        match guarded(|| iter.next()) {
            Ok(None) => break,
            Ok(Some(Ok((k, v)))) => {
                errors = 0;
                out.push((k.to_vec(), v.to_vec()));
            }
            Ok(Some(Err(_))) | Err(_) => {
                *skipped += 1;
                errors += 1;
                if errors >= MAX_STEP_ERRORS {
                    break;
                }
                // A panicking iterator may be left in any state: start again after the last
                // key read.
                let after = out.last().map(|(k, _)| k.clone());
                iter = match guarded(|| match &after {
                    Some(k) => tree.range::<&[u8], _>((
                        std::ops::Bound::Excluded(k.as_slice()),
                        std::ops::Bound::Unbounded,
                    )),
                    None => tree.iter(),
                }) {
                    Ok(iter) => iter,
                    Err(_) => break,
                };
            }
        }
    }
    out
}

fn id_of(key: &[u8]) -> Option<TurnId> {
    Some(TurnId(u64::from_be_bytes(key.try_into().ok()?)))
}

fn open_tree(db: &sled::Db, name: &str, skipped: &mut usize) -> Option<sled::Tree> {
    match guarded(|| db.open_tree(name)) {
        Ok(Ok(tree)) => Some(tree),
        _ => {
            *skipped += 1;
            None
        }
    }
}

fn read_with_sled(db: &sled::Db) -> Salvage {
    let mut s = Salvage::default();
    read_turns(db, &mut s);
    let skipped = &mut s.skipped;
    each_record(db, "branches", skipped, |k, v| {
        match serde_json::from_slice::<Branch>(&v) {
            Ok(b) if b.name.as_bytes() == k.as_slice() => s.branches.insert(b.name.clone(), b),
            _ => return false,
        };
        true
    });
    each_record(db, "entries", skipped, |k, v| {
        match (id_of(&k), serde_json::from_slice::<Vec<Value>>(&v)) {
            (Some(id), Ok(entries)) => s.entries.insert(id, entries),
            _ => return false,
        };
        true
    });
    each_record(db, "meta", skipped, |k, v| {
        match (String::from_utf8(k), serde_json::from_slice::<Value>(&v)) {
            (Ok(key), Ok(value)) => s.meta.insert(key, value),
            _ => return false,
        };
        true
    });
    each_record(db, "imports", skipped, |k, v| {
        match id_of(&v) {
            Some(id) if k.contains(&0) => s.imports.insert(k, id),
            _ => return false,
        };
        true
    });
    each_record(db, "deleted", skipped, |k, v| {
        match id_of(&k) {
            Some(id) => s.deleted.insert(id, v),
            None => return false,
        };
        true
    });
    each_record(db, "tokens", skipped, |_, v| {
        if let Some(id) = id_of(&v) {
            s.token_high = s.token_high.max(id);
        }
        true
    });
    each_record(db, "sessions", skipped, |k, v| {
        match (String::from_utf8(k), String::from_utf8(v)) {
            (Ok(session), Ok(branch)) => s.sessions.insert(session, branch),
            _ => return false,
        };
        true
    });
    s
}

/// Hands every record sled can walk in tree `name` to `keep`; one it refuses (false) counts as
/// skipped.
fn each_record(
    db: &sled::Db,
    name: &str,
    skipped: &mut usize,
    mut keep: impl FnMut(Vec<u8>, Vec<u8>) -> bool,
) {
    if let Some(tree) = open_tree(db, name, skipped) {
        for (k, v) in walk(&tree, skipped) {
            if !keep(k, v) {
                *skipped += 1;
            }
        }
    }
}

/// The turns sled can read into `s`, each id also looked up directly, since a broken node
/// can end a walk early.
fn read_turns(db: &sled::Db, s: &mut Salvage) {
    let skipped = &mut s.skipped;
    let Some(tree) = open_tree(db, "turns", skipped) else {
        return;
    };
    let mut records = walk(&tree, skipped);
    let last_seen = records
        .iter()
        .filter_map(|(k, _)| id_of(k))
        .max()
        .unwrap_or_default();
    let last_key = guarded(|| tree.last())
        .ok()
        .and_then(|r| r.ok())
        .flatten()
        .and_then(|(k, _)| id_of(&k))
        .unwrap_or_default();
    let top = last_seen
        .max(last_key)
        .get()
        .saturating_add(PROBE_PAST_LAST);
    let seen: BTreeSet<u64> = records
        .iter()
        .filter_map(|(k, _)| id_of(k).map(TurnId::get))
        .collect();
    for id in 1..=top {
        if seen.contains(&id) {
            continue;
        }
        if let Ok(Ok(Some(v))) = guarded(|| tree.get(id.to_be_bytes())) {
            records.push((id.to_be_bytes().to_vec(), v.to_vec()));
        }
    }
    for (k, v) in records {
        match (id_of(&k), serde_json::from_slice::<Turn>(&v)) {
            (Some(id), Ok(turn)) if turn.id == id && id > TurnId(0) => {
                s.turns.insert(id, turn);
            }
            _ => *skipped += 1,
        }
    }
}

/// The last resort: JSON turn and branch records found anywhere in the raw files.
fn scan_raw(dir: &Path) -> Salvage {
    let mut s = Salvage::default();
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    for file in files {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if meta.len() > MAX_SCAN_FILE {
            s.skipped += 1;
            continue;
        }
        let Ok(bytes) = std::fs::read(&file) else {
            s.skipped += 1;
            continue;
        };
        scan_bytes(&bytes, &mut s);
    }
    s
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect_files(&entry.path(), out),
            Ok(t) if t.is_file() => out.push(entry.path()),
            _ => {}
        }
    }
}

/// How complete a version of a turn is: finished beats running, then the longer reply.
fn turn_rank(t: &Turn) -> (bool, usize, usize) {
    (t.ended_at.is_some(), t.reply.len(), t.files.len())
}

/// Finds `{"id":` (turns) and `{"name":` (branches) and decodes one JSON value from each.
fn scan_bytes(bytes: &[u8], s: &mut Salvage) {
    const TURN: &[u8] = b"{\"id\":";
    const BRANCH: &[u8] = b"{\"name\":";
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'{') {
        let at = i + off;
        i = at + 1;
        let rest = &bytes[at..];
        let is_turn = rest.starts_with(TURN);
        if !is_turn && !rest.starts_with(BRANCH) {
            continue;
        }
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        let Some(Ok(value)) = stream.next() else {
            s.skipped += 1;
            continue;
        };
        if is_turn {
            match serde_json::from_value::<Turn>(value) {
                Ok(turn) if turn.id > TurnId(0) && !turn.branch.is_empty() => {
                    let better = s
                        .turns
                        .get(&turn.id)
                        .is_none_or(|old| turn_rank(&turn) > turn_rank(old));
                    if better {
                        s.turns.insert(turn.id, turn);
                    }
                }
                _ => s.skipped += 1,
            }
        } else {
            match serde_json::from_value::<Branch>(value) {
                Ok(b) if !b.name.is_empty() => {
                    // Heads only move forward except on a rewind: keep the latest head seen.
                    let better = s.branches.get(&b.name).is_none_or(|old| b.head > old.head);
                    if better {
                        s.branches.insert(b.name.clone(), b);
                    }
                }
                _ => s.skipped += 1,
            }
        }
        i = at + stream.byte_offset().max(1);
    }
}

/// Adds what a raw scan found past the last turn sled read: newer turns, and branch records
/// whose head is one of them. Returns how many turns were added.
fn merge_newer(s: &mut Salvage, raw: Salvage) -> usize {
    let last = s.turns.keys().next_back().copied().unwrap_or_default();
    let mut added = 0;
    for (id, turn) in raw.turns.into_iter().filter(|(id, _)| *id > last) {
        s.turns.insert(id, turn);
        added += 1;
    }
    for (name, branch) in raw.branches {
        let newer = branch
            .head
            .is_some_and(|h| h > last && s.turns.contains_key(&h));
        if newer || !s.branches.contains_key(&name) {
            s.branches.insert(name, branch);
        }
    }
    added
}

/// Looks for damage without touching the store: when no process holds it, a scratch copy is
/// opened with sled and read back, and the raw files are scanned for finished turns newer than
/// the last one sled reads (sled silently drops an unreadable tail of its log when it opens a
/// database, and then overwrites it: so this must run before anything opens the real one).
/// Returns a one-line description of the damage, or None (no damage seen, no store, or in use).
pub fn inspect(store_dir: &Path) -> Option<String> {
    let db = store_dir.join("db");
    if !db.join("db").is_file() || ensure_unlocked(&db, INSPECT_UNLOCK_WAIT).is_err() {
        return None;
    }
    let scratch = tempfile::Builder::new()
        .prefix(".inspect-")
        .tempdir_in(store_dir)
        .ok()?;
    let copy = scratch.path().join("db");
    copy_dir(&db, &copy).ok()?;
    let sled_db = match open_copy(&copy) {
        Ok(sled_db) => sled_db,
        Err(e) => return Some(format!("sled cannot open it: {e}")),
    };
    let mut skipped = 0;
    let last = open_tree(&sled_db, "turns", &mut skipped)
        .map(|tree| walk(&tree, &mut skipped))
        .and_then(|records| records.iter().filter_map(|(k, _)| id_of(k)).max())
        .unwrap_or_default();
    let salvage = read_with_sled(&sled_db);
    drop(sled_db);
    let lost: Vec<TurnId> = scan_raw(&db)
        .turns
        .into_iter()
        .filter(|(id, t)| *id > last && t.ended_at.is_some() && !salvage.deleted.contains_key(id))
        .map(|(id, _)| id)
        .collect();
    let mut problems = Vec::new();
    if let (Some(first), Some(newest)) = (lost.first(), lost.last()) {
        problems.push(format!(
            "its files hold {} finished turns (#{first}..#{newest}) newer than the last one it reads (#{last}): part of its log is unreadable",
            lost.len()
        ));
    }
    problems.extend(verify(&salvage));
    if problems.is_empty() && skipped > 0 {
        problems.push(format!("{skipped} of its records cannot be read"));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// [`verify`] of an open database (the owner's, while it serves others).
pub(super) fn verify_db(db: &sled::Db) -> Vec<String> {
    verify(&read_with_sled(db))
}

/// The turn ids that should be in the log and are not: below the highest id ever given
/// (turns, tombstones, idempotency tokens), neither stored nor deleted. Gaps below the first
/// id given after tombstones were kept (older stores) may be deletions, so they count only
/// when something still names them.
fn missing_ids(s: &Salvage) -> Vec<TurnId> {
    let high = [
        s.turns.keys().next_back().copied().unwrap_or_default(),
        s.deleted.keys().next_back().copied().unwrap_or_default(),
        s.token_high,
    ]
    .into_iter()
    .max()
    .unwrap_or_default();
    let from = s
        .meta
        .get(&MetaKey::TombstonesFrom.to_string())
        .and_then(Value::as_u64)
        .map_or(TurnId(u64::MAX), TurnId);
    let named: BTreeSet<TurnId> = s
        .turns
        .values()
        .filter_map(|t| t.parent)
        .chain(s.branches.values().filter_map(|b| b.head))
        .chain(s.branches.values().filter_map(|b| b.fork_turn))
        .collect();
    TurnId(1)
        .and_after()
        .take_while(|id| *id <= high)
        .filter(|id| !s.turns.contains_key(id) && !s.deleted.contains_key(id))
        .filter(|id| *id >= from || named.contains(id))
        .collect()
}

/// Every check of the records read back: each decodes, each parent and branch head is a
/// stored turn, and the ids given are all accounted for. One phrase per kind of problem.
fn verify(s: &Salvage) -> Vec<String> {
    let mut problems = Vec::new();
    if s.skipped > 0 {
        problems.push(format!("{} of its records cannot be read", s.skipped));
    }
    let missing = missing_ids(s);
    if !missing.is_empty() {
        problems.push(format!(
            "{} of its {} turns are missing ({})",
            missing.len(),
            missing.len() + s.turns.len(),
            id_list(&missing)
        ));
    }
    let orphans: Vec<TurnId> = s
        .turns
        .values()
        .filter(|t| t.parent.is_some_and(|p| !s.turns.contains_key(&p)))
        .map(|t| t.id)
        .collect();
    if !orphans.is_empty() {
        problems.push(format!(
            "the turns before {} are missing from the log",
            id_list(&orphans)
        ));
    }
    let heads: Vec<String> = s
        .branches
        .values()
        .filter(|b| b.head.is_some_and(|h| !s.turns.contains_key(&h)))
        .map(|b| format!("'{}'", b.name))
        .collect();
    if !heads.is_empty() {
        problems.push(format!(
            "the latest turn of branch {} is missing",
            heads.join(", ")
        ));
    }
    let homeless: BTreeSet<&str> = s
        .turns
        .values()
        .map(|t| t.branch.as_str())
        .filter(|b| !s.branches.contains_key(*b))
        .collect();
    if !homeless.is_empty() {
        problems.push(format!(
            "the record of branch {} is missing",
            homeless
                .iter()
                .map(|b| format!("'{b}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    problems
}

/// `#3, #7..#9` (ranges joined), at most a few pieces.
fn id_list(ids: &[TurnId]) -> String {
    let mut pieces: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j].next() {
            j += 1;
        }
        pieces.push(if i == j {
            format!("#{}", ids[i])
        } else {
            format!("#{}..#{}", ids[i], ids[j])
        });
        i = j + 1;
    }
    if pieces.len() > 8 {
        let more = pieces.len() - 8;
        pieces.truncate(8);
        pieces.push(format!("and {more} more"));
    }
    pieces.join(", ")
}

/// Rebuilds the `missing` turns from the transcripts in `dir` of the sessions the log knows:
/// a session's transcript turns are matched in order, by prompt, with its surviving turns,
/// and each one left over takes the first missing id between its matched neighbours. Links
/// (parents, heads) to a rebuilt id then hold again. A surviving turn whose end or transcript
/// lines were lost gets them from its transcript turn. Returns how many turns were rebuilt
/// and how many completed.
fn rebuild_from_transcripts(s: &mut Salvage, missing: &[TurnId], dir: &Path) -> (usize, usize) {
    let lost: BTreeSet<TurnId> = missing.iter().copied().collect();
    let mut free = lost.clone();
    let sessions: BTreeSet<SessionId> = s
        .turns
        .values()
        .map(|t| t.session_id.clone())
        .chain(s.branches.values().map(|b| b.session_id.clone()))
        .filter(|id| !id.is_empty() && !id.as_str().contains('/'))
        .collect();
    let (mut rebuilt, mut completed) = (0, 0);
    for session in sessions {
        let Ok(lines) = crate::transcript::read_transcript(&dir.join(format!("{session}.jsonl")))
        else {
            continue;
        };
        let known: Vec<Turn> = s
            .turns
            .values()
            .filter(|t| t.session_id == session)
            .cloned()
            .collect();
        let mut next_known = 0;
        // The turn before the one being placed: its id, branch.
        let mut before: Option<(TurnId, String)> = None;
        for (entries, facts) in crate::transcript::split_turns(&lines) {
            let Some(prompt) = facts.prompt.clone() else {
                continue;
            };
            if let Some(k) = known[next_known..].iter().position(|t| t.prompt == prompt) {
                let turn = &known[next_known + k];
                before = Some((turn.id, turn.branch.clone()));
                next_known += k + 1;
                if let Some(stored) = s.turns.get_mut(&turn.id) {
                    if complete_from(stored, &entries, facts) {
                        completed += 1;
                    }
                }
                s.entries.entry(turn.id).or_insert(entries);
                continue;
            }
            let low = before.as_ref().map_or(TurnId(0), |(id, _)| *id);
            let high = known.get(next_known).map_or(TurnId(u64::MAX), |t| t.id);
            let Some(id) = free.range(low.next()..high).next().copied() else {
                continue;
            };
            let branch = match (&before, known.get(next_known)) {
                (Some((_, b)), _) => b.clone(),
                (None, Some(t)) => t.branch.clone(),
                (None, None) => continue,
            };
            let turn = Turn {
                id,
                branch: branch.clone(),
                parent: before.as_ref().map(|(p, _)| *p),
                session_id: session.clone(),
                ..turn_from(prompt, &entries, facts)
            };
            // The surviving turn after it follows it again.
            if let Some(next) = known.get(next_known) {
                if let Some(stored) = s.turns.get_mut(&next.id) {
                    if stored.parent.is_none_or(|p| lost.contains(&p)) {
                        stored.parent = Some(id);
                    }
                }
            }
            s.turns.insert(id, turn);
            s.entries.insert(id, entries);
            free.remove(&id);
            before = Some((id, branch));
            rebuilt += 1;
        }
    }
    (rebuilt, completed)
}

/// A transcript line's `timestamp`.
fn timestamp(entry: &Value) -> Option<String> {
    entry
        .get("timestamp")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Gives a surviving turn whose end was lost (`stored`) the end its transcript turn
/// (`entries`, `facts`) shows; true when it did.
fn complete_from(stored: &mut Turn, entries: &[Value], facts: TurnFacts) -> bool {
    let ends_in_transcript = entries
        .iter()
        .any(|e| e.get("type").and_then(Value::as_str) == Some("assistant"));
    if stored.ended_at.is_some() || !ends_in_transcript {
        return false;
    }
    let ended_at = entries
        .iter()
        .rev()
        .find_map(timestamp)
        .unwrap_or_else(crate::model::now_rfc3339);
    let end = facts.into_end(&stored.prompt, ended_at, Vec::new());
    stored.end_with(&end);
    true
}

/// What a transcript turn (`entries`, `facts`) tells of a lost turn with `prompt`: all but
/// its id, branch, parent and session.
fn turn_from(prompt: String, entries: &[Value], facts: TurnFacts) -> Turn {
    let ended_at = entries.iter().rev().find_map(timestamp).unwrap_or_default();
    let end = facts.into_end(&prompt, ended_at, Vec::new());
    let mut turn = Turn {
        prompt,
        started_at: entries.iter().find_map(timestamp).unwrap_or_default(),
        ..Turn::default()
    };
    turn.end_with(&end);
    turn
}

/// Repairs links to records that did not survive, so every branch's lineage reads back.
fn make_consistent(s: &mut Salvage, report: &mut RecoveryReport) {
    let ids: BTreeSet<TurnId> = s.turns.keys().copied().collect();
    for turn in s.turns.values_mut() {
        if let Some(p) = turn.parent {
            if p >= turn.id || !ids.contains(&p) {
                turn.parent = None;
                report.relinked += 1;
            }
        }
    }
    // Branch records lost while their turns survived are rebuilt from the turns.
    let mut by_branch: BTreeMap<String, Vec<&Turn>> = BTreeMap::new();
    for turn in s.turns.values() {
        by_branch.entry(turn.branch.clone()).or_default().push(turn);
    }
    for (name, turns) in &by_branch {
        if s.branches.contains_key(name) || crate::names::validate_branch_name(name).is_err() {
            continue;
        }
        let (first, last) = (turns[0], turns[turns.len() - 1]);
        s.branches.insert(
            name.clone(),
            Branch {
                name: name.clone(),
                session_id: last.session_id.clone(),
                parent_branch: None,
                fork_turn: None,
                head: Some(last.id),
                created_at: first.started_at.clone(),
            },
        );
        report.rebuilt_branches += 1;
    }
    let names: BTreeSet<String> = s.branches.keys().cloned().collect();
    for branch in s.branches.values_mut() {
        if let Some(head) = branch.head {
            if !ids.contains(&head) {
                branch.head = by_branch
                    .get(&branch.name)
                    .and_then(|t| t.iter().map(|t| t.id).filter(|&id| id < head).max());
                report.relinked += 1;
            }
        }
        if branch.fork_turn.is_some_and(|f| !ids.contains(&f)) {
            branch.fork_turn = None;
            report.relinked += 1;
        }
        if branch
            .parent_branch
            .as_ref()
            .is_some_and(|p| !names.contains(p))
        {
            branch.parent_branch = None;
            report.relinked += 1;
        }
    }
    s.entries.retain(|id, _| ids.contains(id));
    s.imports
        .retain(|_, id| ids.contains(id) || s.deleted.contains_key(id));
    s.sessions.retain(|_, branch| names.contains(branch));
    for b in s.branches.values() {
        if !b.session_id.is_empty() {
            s.sessions
                .entry(b.session_id.to_string())
                .or_insert_with(|| b.name.clone());
        }
    }
    if let Some(current) = s
        .meta
        .get(&MetaKey::CurrentBranch.to_string())
        .and_then(Value::as_str)
    {
        if !names.contains(current) {
            s.meta.remove(&MetaKey::CurrentBranch.to_string());
        }
    }
}

/// Writes the salvage into a fresh database at `db` (which must not exist), in the engine's
/// format, flushed.
fn write_fresh(db: &Path, s: &Salvage) -> Result<()> {
    crate::paths::ensure_private_dir(db)?;
    let fresh = sled::Config::new()
        .path(db)
        .cache_capacity(super::CACHE_BYTES)
        .open()?;
    let turns = fresh.open_tree("turns")?;
    let branches = fresh.open_tree("branches")?;
    let entries = fresh.open_tree("entries")?;
    let sessions = fresh.open_tree("sessions")?;
    let meta = fresh.open_tree("meta")?;
    fresh.open_tree("tokens")?;
    let imports = fresh.open_tree("imports")?;
    let uuids = fresh.open_tree("uuids")?;
    let open = fresh.open_tree("open")?;
    for (id, turn) in &s.turns {
        turns.insert(id.to_be_bytes(), serde_json::to_vec(turn)?)?;
        // The indexes are rebuilt from the turns themselves.
        if let Some(uuid) = &turn.prompt_uuid {
            if !uuids.contains_key(uuid.as_bytes())? {
                uuids.insert(uuid.as_bytes(), &id.to_be_bytes())?;
            }
        }
        if turn.is_running() {
            open.insert(id.to_be_bytes(), &[])?;
        }
    }
    for (name, branch) in &s.branches {
        branches.insert(name.as_bytes(), serde_json::to_vec(branch)?)?;
    }
    for (id, list) in &s.entries {
        entries.insert(id.to_be_bytes(), serde_json::to_vec(list)?)?;
    }
    for (import_key, id) in &s.imports {
        imports.insert(import_key.as_slice(), &id.to_be_bytes())?;
    }
    for (session, branch) in &s.sessions {
        sessions.insert(session.as_bytes(), branch.as_bytes())?;
    }
    let deleted = fresh.open_tree("deleted")?;
    for (id, tombstone) in &s.deleted {
        deleted.insert(id.to_be_bytes(), tombstone.as_slice())?;
    }
    for (key, value) in &s.meta {
        meta.insert(key.as_bytes(), serde_json::to_vec(value)?)?;
    }
    fresh.flush()?;
    Ok(())
}
