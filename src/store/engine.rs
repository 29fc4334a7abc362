//! The one place that touches sled: every store operation is a [`Request`], executed by the
//! process that owns the database with [`Engine::execute`]. Local calls and calls arriving over
//! the socket go through the same function, so their semantics are identical.
//!
//! Format: trees `turns` (id as big-endian u64 → JSON [`Turn`]), `branches` (name → JSON
//! [`Branch`]), `entries` (id BE → JSON array of transcript lines), `sessions` (session id →
//! branch name), `meta` (key → JSON), `tokens` (idempotency token of a begin-turn or import
//! request → id BE), `imports` (`<source>\0<key>` → id BE: which turn an imported one became),
//! `uuids` (a turn's `prompt_uuid` → id BE: how a transcript line leads to its turn), `open`
//! (id BE → nothing: the turns begun and not yet finished). Stores made before `uuids` and `open`
//! existed open as they are; their turns are simply not in those trees.
//! `deleted` (id BE → JSON [`Tombstone`]: a turn removed with its branch, so its id is never
//! given again and `ccx doctor` can tell a deleted turn from a lost one). `search` (id BE → the
//! turn's search text: prompt, reply, tool calls; see `super::search_text`; its copy in the
//! search log beside the database is what deep search reads, see `super::search_log`).
//! Writes are serialised by one mutex, applied in one sled transaction, and flushed before
//! the answer leaves: an acknowledged write is durable.

use super::error::StoreError;
use super::format::Tombstone;
use crate::ids::{MetaKey, SessionId, TurnId};
use crate::model::{Branch, FinishedTurn, Turn, TurnEnd, TurnStart};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod deep_search;
mod search_log;

/// One store operation, as sent over the socket (one JSON line each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// `token` is unique per call: a retried request returns the turn the first attempt made.
    BeginTurn {
        token: String,
        start: TurnStart,
        /// Part of a bulk write (an import) that is flushed once at its end.
        #[serde(default)]
        defer: bool,
    },
    FinishTurn {
        id: TurnId,
        end: TurnEnd,
        #[serde(default)]
        defer: bool,
    },
    Turn {
        id: TurnId,
    },
    /// The turn whose `prompt_uuid` is `uuid`, if any.
    TurnByUuid {
        uuid: String,
    },
    /// The turns begun and not finished (recorded since `open` existed), ascending id.
    OpenTurns,
    AllTurns,
    Lineage {
        branch: String,
    },
    Entries {
        id: TurnId,
    },
    Branch {
        name: String,
    },
    Branches,
    CreateBranch {
        branch: Branch,
    },
    PutBranch {
        branch: Branch,
    },
    BranchForSession {
        session_id: SessionId,
    },
    GetMeta {
        key: String,
    },
    /// Every setting whose key begins with `prefix` (e.g. `recording:`), in key order.
    MetasWithPrefix {
        prefix: String,
    },
    SetMeta {
        key: String,
        value: Value,
        #[serde(default)]
        defer: bool,
    },
    /// The turns whose stored record holds every one of `words` (ASCII, case-insensitive):
    /// candidates for a search, decoded here so the rest of the log is never decoded or sent.
    SearchCandidates {
        words: Vec<String>,
    },
    /// Like `SearchCandidates`, but a word may also be in the search text of the turn's tool
    /// calls (commands, files, output), which comes with each candidate. No words: every turn.
    DeepSearchCandidates {
        words: Vec<String>,
    },
    /// Appends finished turns to an existing branch, in order, in one transaction: the import
    /// of a transcript, in batches. Each turn's `source_key` is remembered under `source` (see
    /// `ImportedKeys`). `token` is unique per call: a retry answers what the first attempt did.
    ImportTurns {
        token: String,
        branch: String,
        source: String,
        turns: Vec<FinishedTurn>,
        #[serde(default)]
        defer: bool,
    },
    /// The source keys remembered under `source` and the turns they became, in key order;
    /// a key whose turn was deleted, or whose id now names another session's turn, is left out.
    ImportedKeys {
        source: String,
        /// Also the keys of turns deleted since (their tombstones carry the session): what
        /// `ccx import` must not bring back.
        #[serde(default)]
        with_deleted: bool,
    },
    /// Renames a branch everywhere it is named (its turns, child branches, sessions).
    RenameBranch {
        old: String,
        new: String,
    },
    /// Removes a branch and the turns only it holds; answers how many turns went.
    DeleteBranch {
        name: String,
        /// Undoing a failed import: the import keys of its turns go too, so a later import
        /// brings them in (a person's delete keeps them, so it does not).
        #[serde(default)]
        forget_imports: bool,
    },
    Flush,
    /// Checks every record (see `recover::verify_db`): one phrase per kind of problem.
    Verify,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "r", content = "v", rename_all = "snake_case")]
pub enum Response {
    Turn(Turn),
    MaybeTurn(Option<Turn>),
    Turns(Vec<Turn>),
    /// Turns with the search texts of their tool calls.
    TurnsWithTools(Vec<(Turn, Vec<String>)>),
    Entries(Vec<Value>),
    Branch(Branch),
    MaybeBranch(Option<Branch>),
    Branches(Vec<Branch>),
    Meta(Option<Value>),
    Metas(Vec<(String, Value)>),
    Count(u64),
    Ids(Vec<TurnId>),
    Keys(Vec<(String, TurnId)>),
    Problems(Vec<String>),
    Done,
    Error(StoreError),
}

/// Finds a lower-case ASCII needle in bytes, ASCII case ignored, without copying them: a
/// memchr scan for the needle's rarest byte (both cases), then a comparison around it.
struct CaselessFinder {
    needle: Vec<u8>,
    /// The index of the rarest byte in `needle`.
    at: usize,
}

impl CaselessFinder {
    fn new(needle: &[u8]) -> CaselessFinder {
        // Letters by English frequency; anything else (digits, punctuation) counts as rare.
        const BY_FREQUENCY: &[u8] = b" etaoinshrdlcumwfgypbvkjxqz";
        let rank = |b: u8| {
            BY_FREQUENCY
                .iter()
                .position(|&c| c == b)
                .unwrap_or(BY_FREQUENCY.len())
        };
        let at = (0..needle.len())
            .max_by_key(|&i| (rank(needle[i]), std::cmp::Reverse(i)))
            .unwrap_or(0);
        CaselessFinder {
            needle: needle.to_vec(),
            at,
        }
    }

    fn is_in(&self, hay: &[u8]) -> bool {
        let (len, k) = (self.needle.len(), self.at);
        if len == 0 {
            return true;
        }
        if hay.len() < len {
            return false;
        }
        let (lo, up) = (self.needle[k], self.needle[k].to_ascii_uppercase());
        // Positions of the rare byte that leave room for the whole needle around it.
        let window = &hay[k..=hay.len() - len + k];
        let check = |pos: usize| hay[pos..pos + len].eq_ignore_ascii_case(&self.needle);
        if lo == up {
            memchr::memchr_iter(lo, window).any(check)
        } else {
            memchr::memchr2_iter(lo, up, window).any(check)
        }
    }
}

/// Lower-cased substring finders for a candidate scan.
fn finders(words: &[String]) -> Vec<memchr::memmem::Finder<'static>> {
    words
        .iter()
        .map(|w| memchr::memmem::Finder::new(&w.to_ascii_lowercase().into_bytes()).into_owned())
        .collect()
}

/// The open database of the owning process.
pub struct Engine {
    path: PathBuf,
    db: sled::Db,
    turns: sled::Tree,
    branches: sled::Tree,
    entries: sled::Tree,
    sessions: sled::Tree,
    meta: sled::Tree,
    tokens: sled::Tree,
    imports: sled::Tree,
    uuids: sled::Tree,
    open: sled::Tree,
    deleted: sled::Tree,
    /// id BE → the turn's search text: prompt, reply, tool calls (see `super::search_text`).
    search: sled::Tree,
    write: Mutex<()>,
}

type Res<T> = Result<T, StoreError>;
type TxRes<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// Below this many turn ids a search scans the log on one thread.
const PARALLEL_SCAN_TURNS: u64 = 8192;

/// Most threads one search scans with.
const MAX_SCAN_THREADS: usize = 8;

fn key(id: TurnId) -> [u8; 8] {
    id.to_be_bytes()
}

/// The search record of an imported turn: the one its importer made, else made here from its
/// entries.
fn imported_search_text(turn: &FinishedTurn) -> Vec<u8> {
    let (prompt, reply) = (&turn.start.prompt, &turn.end.reply);
    match &turn.search_text {
        Some(texts) => super::search_text::encode_texts(prompt, reply, texts.clone()),
        None => {
            let entries: Vec<Value> = serde_json::from_str(&turn.entries).unwrap_or_default();
            super::search_text::encode(prompt, reply, &entries)
        }
    }
}

fn id_of(key: &[u8]) -> Option<TurnId> {
    Some(TurnId(u64::from_be_bytes(key.try_into().ok()?)))
}

impl Engine {
    /// Opens the trees of an already opened database. `path` names the store in errors.
    pub fn new(path: &Path, db: sled::Db) -> Res<Engine> {
        let open = |name: &str| {
            db.open_tree(name)
                .map_err(|e| StoreError::from_sled(path, e))
        };
        Ok(Engine {
            path: path.to_path_buf(),
            turns: open("turns")?,
            branches: open("branches")?,
            entries: open("entries")?,
            sessions: open("sessions")?,
            meta: open("meta")?,
            tokens: open("tokens")?,
            imports: open("imports")?,
            uuids: open("uuids")?,
            open: open("open")?,
            deleted: open("deleted")?,
            search: open("search")?,
            db,
            write: Mutex::new(()),
        })
        .inspect(Engine::mark_tombstones_start)
        .inspect(Engine::mark_search_texts_complete_if_empty)
    }

    /// Remembers, once, from which id on deleted turns leave tombstones (older stores kept
    /// none). Best effort: a store that cannot be written now is marked on a later open.
    fn mark_tombstones_start(&self) {
        let key = MetaKey::TombstonesFrom.to_string();
        if matches!(self.meta.get(&key), Ok(None)) {
            if let Ok(next) = self.next_turn_id() {
                let _ = self.meta.insert(key.as_bytes(), Self::encode(&next));
            }
        }
    }

    /// Runs one request. Never panics on bad input; failures come back as `Response::Error`.
    pub fn execute(&self, req: &Request) -> Response {
        let result = match req {
            Request::BeginTurn {
                token,
                start,
                defer,
            } => self.begin_turn(token, start, *defer).map(Response::Turn),
            Request::FinishTurn { id, end, defer } => {
                self.finish_turn(*id, end, *defer).map(Response::Turn)
            }
            Request::ImportTurns {
                token,
                branch,
                source,
                turns,
                defer,
            } => self
                .import_turns(token, branch, source, turns, *defer)
                .map(Response::Ids),
            Request::ImportedKeys {
                source,
                with_deleted,
            } => self
                .imported_keys(source, *with_deleted)
                .map(Response::Keys),
            Request::Turn { id } => self.turn(*id).map(Response::MaybeTurn),
            Request::TurnByUuid { uuid } => self.turn_by_uuid(uuid).map(Response::MaybeTurn),
            Request::OpenTurns => self.open_turns().map(Response::Turns),
            Request::AllTurns => self.all_turns().map(Response::Turns),
            Request::SearchCandidates { words } => {
                self.search_candidates(words).map(Response::Turns)
            }
            Request::DeepSearchCandidates { words } => self
                .deep_search_candidates(words)
                .map(Response::TurnsWithTools),
            Request::Lineage { branch } => self.lineage(branch).map(Response::Turns),
            Request::Entries { id } => self.entries(*id).map(Response::Entries),
            Request::Branch { name } => self.branch(name).map(Response::MaybeBranch),
            Request::Branches => self.branches().map(Response::Branches),
            Request::CreateBranch { branch } => self.create_branch(branch).map(Response::Branch),
            Request::PutBranch { branch } => self.put_branch(branch).map(|()| Response::Done),
            Request::BranchForSession { session_id } => self
                .branch_for_session(session_id.as_str())
                .map(Response::MaybeBranch),
            Request::GetMeta { key } => self.get_meta(key).map(Response::Meta),
            Request::MetasWithPrefix { prefix } => {
                self.metas_with_prefix(prefix).map(Response::Metas)
            }
            Request::SetMeta { key, value, defer } => {
                self.set_meta(key, value, *defer).map(|()| Response::Done)
            }
            Request::RenameBranch { old, new } => {
                self.rename_branch(old, new).map(|()| Response::Done)
            }
            Request::DeleteBranch {
                name,
                forget_imports,
            } => self
                .delete_branch(name, *forget_imports)
                .map(Response::Count),
            Request::Flush => self.flush().map(|()| Response::Done),
            Request::Verify => Ok(Response::Problems(super::recover::verify_db(&self.db))),
        };
        result.unwrap_or_else(Response::Error)
    }

    // ---- helpers ----

    fn sled(&self, e: sled::Error) -> StoreError {
        StoreError::from_sled(&self.path, e)
    }

    fn tx_err(&self, e: TransactionError<StoreError>) -> StoreError {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => self.sled(e),
        }
    }

    fn damaged(&self, what: String, e: impl std::fmt::Display) -> StoreError {
        StoreError::Damaged {
            path: self.path.display().to_string(),
            detail: format!("{what} is unreadable: {e}"),
        }
    }

    fn decode_turn(&self, bytes: &[u8]) -> Res<Turn> {
        serde_json::from_slice(bytes).map_err(|e| self.damaged("a turn record".into(), e))
    }

    fn decode_branch(&self, bytes: &[u8]) -> Res<Branch> {
        serde_json::from_slice(bytes).map_err(|e| self.damaged("a branch record".into(), e))
    }

    /// Flushes, except for a write that is part of a bulk operation flushed at its end.
    fn flush_unless(&self, defer: bool) -> Res<()> {
        if defer {
            Ok(())
        } else {
            self.flush_now()
        }
    }

    fn flush_now(&self) -> Res<()> {
        self.db.flush().map(|_| ()).map_err(|e| self.sled(e))
    }

    fn lock_writes(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the lock cannot leave sled half-written (transactions), so a
        // poisoned lock is safe to reuse.
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn suggest_branch(&self, name: &str) -> Option<String> {
        let names: Vec<String> = self
            .branches
            .iter()
            .keys()
            .filter_map(|k| k.ok())
            .map(|k| String::from_utf8_lossy(&k).into_owned())
            .collect();
        crate::names::nearest_name(name, names.iter().map(String::as_str)).map(str::to_owned)
    }

    fn no_branch(&self, name: &str) -> StoreError {
        StoreError::NoBranch {
            name: name.to_owned(),
            suggestion: self.suggest_branch(name),
        }
    }

    fn check_name(name: &str) -> Res<()> {
        crate::names::BranchName::parse(name)
            .map(drop)
            .map_err(|reason| StoreError::InvalidBranchName {
                name: name.to_owned(),
                reason,
            })
    }

    fn check_turn_exists(&self, id: Option<TurnId>) -> Res<()> {
        match id {
            Some(id) if !self.turns.contains_key(key(id)).map_err(|e| self.sled(e))? => {
                Err(StoreError::NoTurn { id })
            }
            _ => Ok(()),
        }
    }

    fn encode<T: Serialize>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).expect("store records always serialise")
    }

    // ---- writes ----

    fn begin_turn(&self, token: &str, start: &TurnStart, defer: bool) -> Res<Turn> {
        Self::check_name(&start.branch)?;
        let _guard = self.lock_writes();
        if let Some(id) = self
            .tokens
            .get(token.as_bytes())
            .map_err(|e| self.sled(e))?
        {
            // A retry of a request that already succeeded.
            let id = id_of(&id).ok_or_else(|| self.damaged("a token record".into(), "bad id"))?;
            return self.turn(id)?.ok_or(StoreError::NoTurn { id });
        }
        let id = self.next_turn_id()?;
        let (mut branch, new_branch) = match self.branch(&start.branch)? {
            Some(b) => (b, false),
            None => (
                Branch {
                    name: start.branch.clone(),
                    session_id: start.session_id.clone(),
                    parent_branch: None,
                    fork_turn: None,
                    head: None,
                    created_at: start.started_at.clone(),
                },
                true,
            ),
        };
        let turn = Turn::started(id, &start.branch, branch.head, start);
        branch.head = Some(id);
        let turn_bytes = Self::encode(&turn);
        let branch_bytes = Self::encode(&branch);
        let search_bytes = super::search_text::encode_texts(&turn.prompt, "", Vec::new());
        let log_state = self.log_search_texts([(id, search_bytes.as_slice())]);
        (
            &self.turns,
            &self.branches,
            &self.tokens,
            &self.sessions,
            &self.uuids,
            &self.open,
            &self.search,
        )
            .transaction(
                |(turns, branches, tokens, sessions, uuids, open, search)| -> TxRes<()> {
                    turns.insert(&key(id), turn_bytes.as_slice())?;
                    search.insert(&key(id), search_bytes.as_slice())?;
                    search_log::put_log_state(search, &log_state)?;
                    branches.insert(branch.name.as_bytes(), branch_bytes.as_slice())?;
                    tokens.insert(token.as_bytes(), &key(id))?;
                    if new_branch && !branch.session_id.is_empty() {
                        sessions.insert(branch.session_id.as_bytes(), branch.name.as_bytes())?;
                    }
                    if let Some(uuid) = &start.prompt_uuid {
                        uuids.insert(uuid.as_bytes(), &key(id))?;
                    }
                    open.insert(&key(id), &[])?;
                    Ok(())
                },
            )
            .map_err(|e| self.tx_err(e))?;
        self.flush_unless(defer)?;
        Ok(turn)
    }

    fn finish_turn(&self, id: TurnId, end: &TurnEnd, defer: bool) -> Res<Turn> {
        let _guard = self.lock_writes();
        let mut turn = self.turn(id)?.ok_or(StoreError::NoTurn { id })?;
        turn.end_with(end);
        let turn_bytes = Self::encode(&turn);
        let entry_bytes = Self::encode(&end.entries);
        let search_bytes = super::search_text::encode(&turn.prompt, &turn.reply, &end.entries);
        let log_state = self.log_search_texts([(id, search_bytes.as_slice())]);
        (&self.turns, &self.entries, &self.open, &self.search)
            .transaction(|(turns, entries, open, search)| -> TxRes<()> {
                turns.insert(&key(id), turn_bytes.as_slice())?;
                entries.insert(&key(id), entry_bytes.as_slice())?;
                search.insert(&key(id), search_bytes.as_slice())?;
                search_log::put_log_state(search, &log_state)?;
                open.remove(&key(id))?;
                Ok(())
            })
            .map_err(|e| self.tx_err(e))?;
        self.flush_unless(defer)?;
        Ok(turn)
    }

    /// The id the next turn gets: one past the last turn's.
    fn next_turn_id(&self) -> Res<TurnId> {
        let mut last = TurnId(0);
        for tree in [&self.turns, &self.deleted] {
            if let Some((k, _)) = tree.last().map_err(|e| self.sled(e))? {
                let id = id_of(&k).ok_or_else(|| self.damaged("a turn key".into(), "bad id"))?;
                last = last.max(id);
            }
        }
        Ok(last.next())
    }

    fn import_key(source: &str, key: &str) -> Vec<u8> {
        let mut k = Vec::with_capacity(source.len() + 1 + key.len());
        k.extend_from_slice(source.as_bytes());
        k.push(0);
        k.extend_from_slice(key.as_bytes());
        k
    }

    fn import_turns(
        &self,
        token: &str,
        branch_name: &str,
        source: &str,
        turns: &[FinishedTurn],
        defer: bool,
    ) -> Res<Vec<TurnId>> {
        if source.is_empty() || source.contains('\0') {
            return Err(StoreError::Invalid {
                detail: format!(
                    "an import source must be a non-empty name without NUL: {source:?}"
                ),
            });
        }
        let _guard = self.lock_writes();
        if let Some(first) = self
            .tokens
            .get(token.as_bytes())
            .map_err(|e| self.sled(e))?
        {
            // A retry of a request that already succeeded.
            let first =
                id_of(&first).ok_or_else(|| self.damaged("a token record".into(), "bad id"))?;
            return Ok(first.and_after().take(turns.len()).collect());
        }
        let mut branch = self
            .branch(branch_name)?
            .ok_or_else(|| self.no_branch(branch_name))?;
        if turns.is_empty() {
            return Ok(Vec::new());
        }
        let first = self.next_turn_id()?;
        let mut records = Vec::with_capacity(turns.len());
        let mut parent = branch.head;
        for (id, t) in first.and_after().zip(turns) {
            let mut turn = Turn::started(id, &branch.name, parent, &t.start);
            turn.end_with(&t.end);
            records.push((id, Self::encode(&turn)));
            parent = Some(id);
        }
        let searches: Vec<Vec<u8>> = turns.iter().map(imported_search_text).collect();
        let log_state =
            self.log_search_texts(first.and_after().zip(searches.iter().map(Vec::as_slice)));
        branch.head = parent;
        let branch_bytes = Self::encode(&branch);
        (
            &self.turns,
            &self.entries,
            &self.branches,
            &self.tokens,
            &self.imports,
            &self.uuids,
            &self.search,
        )
            .transaction(
                |(
                    turns_tx,
                    entries_tx,
                    branches_tx,
                    tokens_tx,
                    imports_tx,
                    uuids_tx,
                    search_tx,
                )|
                 -> TxRes<()> {
                    for (((id, record), t), search) in records.iter().zip(turns).zip(&searches) {
                        entries_tx.insert(&key(*id), t.entries.as_bytes())?;
                        search_tx.insert(&key(*id), search.as_slice())?;
                        turns_tx.insert(&key(*id), record.as_slice())?;
                        imports_tx.insert(Self::import_key(source, &t.source_key), &key(*id))?;
                        // The first turn recorded for a transcript line keeps it.
                        if let Some(uuid) = &t.start.prompt_uuid {
                            if uuids_tx.get(uuid.as_bytes())?.is_none() {
                                uuids_tx.insert(uuid.as_bytes(), &key(*id))?;
                            }
                        }
                    }
                    search_log::put_log_state(search_tx, &log_state)?;
                    branches_tx.insert(branch.name.as_bytes(), branch_bytes.as_slice())?;
                    tokens_tx.insert(token.as_bytes(), &key(first))?;
                    Ok(())
                },
            )
            .map_err(|e| self.tx_err(e))?;
        self.flush_unless(defer)?;
        Ok(records.into_iter().map(|(id, _)| id).collect())
    }

    fn write_branch(&self, branch: &Branch) -> Res<()> {
        let bytes = Self::encode(branch);
        (&self.branches, &self.sessions)
            .transaction(|(branches, sessions)| -> TxRes<()> {
                branches.insert(branch.name.as_bytes(), bytes.as_slice())?;
                if !branch.session_id.is_empty() {
                    sessions.insert(branch.session_id.as_bytes(), branch.name.as_bytes())?;
                }
                Ok(())
            })
            .map_err(|e| self.tx_err(e))?;
        self.flush_now()
    }

    fn create_branch(&self, branch: &Branch) -> Res<Branch> {
        Self::check_name(&branch.name)?;
        let _guard = self.lock_writes();
        if let Some(existing) = self.branch(&branch.name)? {
            // The same record again is a retry of a call that succeeded.
            return if existing == *branch {
                Ok(existing)
            } else {
                Err(StoreError::BranchExists {
                    name: branch.name.clone(),
                })
            };
        }
        self.check_turn_exists(branch.head)?;
        self.check_turn_exists(branch.fork_turn)?;
        self.write_branch(branch)?;
        Ok(branch.clone())
    }

    fn put_branch(&self, branch: &Branch) -> Res<()> {
        Self::check_name(&branch.name)?;
        let _guard = self.lock_writes();
        self.check_turn_exists(branch.head)?;
        self.check_turn_exists(branch.fork_turn)?;
        self.write_branch(branch)
    }

    fn set_meta(&self, key: &str, value: &Value, defer: bool) -> Res<()> {
        let _guard = self.lock_writes();
        self.meta
            .insert(key.as_bytes(), Self::encode(value))
            .map_err(|e| self.sled(e))?;
        self.flush_unless(defer)
    }

    fn flush(&self) -> Res<()> {
        self.flush_now()
    }

    fn rename_branch(&self, old: &str, new: &str) -> Res<()> {
        Self::check_name(new)?;
        let _guard = self.lock_writes();
        let mut branch = self.branch(old)?.ok_or_else(|| self.no_branch(old))?;
        if self.branch(new)?.is_some() {
            return Err(StoreError::BranchExists {
                name: new.to_owned(),
            });
        }
        branch.name = new.to_owned();
        let mut turns = Vec::new();
        for item in self.turns.iter() {
            let (k, bytes) = item.map_err(|e| self.sled(e))?;
            let mut turn = self.decode_turn(&bytes)?;
            if turn.branch == old {
                turn.branch = new.to_owned();
                turns.push((k, Self::encode(&turn)));
            }
        }
        let mut children = Vec::new();
        for mut other in self.branches()? {
            if other.parent_branch.as_deref() == Some(old) {
                other.parent_branch = Some(new.to_owned());
                children.push((other.name.clone(), Self::encode(&other)));
            }
        }
        let current_key = MetaKey::CurrentBranch.to_string();
        let current = self.get_meta(&current_key)?;
        let branch_bytes = Self::encode(&branch);
        (&self.turns, &self.branches, &self.sessions, &self.meta)
            .transaction(|(t, b, s, m)| -> TxRes<()> {
                b.remove(old.as_bytes())?;
                b.insert(new.as_bytes(), branch_bytes.as_slice())?;
                for (name, bytes) in &children {
                    b.insert(name.as_bytes(), bytes.as_slice())?;
                }
                for (k, bytes) in &turns {
                    t.insert(k, bytes.as_slice())?;
                }
                if !branch.session_id.is_empty() {
                    s.insert(branch.session_id.as_bytes(), new.as_bytes())?;
                }
                if current.as_ref().and_then(Value::as_str) == Some(old) {
                    m.insert(
                        current_key.as_bytes(),
                        Self::encode(&Value::String(new.to_owned())),
                    )?;
                }
                Ok(())
            })
            .map_err(|e| self.tx_err(e))?;
        self.flush_now()
    }

    /// Every turn the conversations of `branches` pass through, from their heads back.
    fn turns_reached(&self, branches: &[Branch]) -> Res<std::collections::HashSet<TurnId>> {
        let mut reached = std::collections::HashSet::new();
        for branch in branches {
            let mut next = branch.head;
            while let Some(id) = next {
                if !reached.insert(id) {
                    break;
                }
                next = self.turn(id)?.and_then(|t| t.parent).filter(|p| *p < id);
            }
        }
        Ok(reached)
    }

    /// The import keys naming any of the turns `ids`.
    fn imports_of(&self, ids: &std::collections::HashSet<TurnId>) -> Res<Vec<sled::IVec>> {
        let mut keys = Vec::new();
        for item in self.imports.iter() {
            let (k, v) = item.map_err(|e| self.sled(e))?;
            if id_of(&v).is_some_and(|id| ids.contains(&id)) {
                keys.push(k);
            }
        }
        Ok(keys)
    }

    fn delete_branch(&self, name: &str, forget_imports: bool) -> Res<u64> {
        let _guard = self.lock_writes();
        let branch = self.branch(name)?.ok_or_else(|| self.no_branch(name))?;
        let others: Vec<Branch> = self
            .branches()?
            .into_iter()
            .filter(|b| b.name != name)
            .collect();
        // Turns another branch's conversation passes through are kept.
        let needed = self.turns_reached(&others)?;
        let mut doomed = Vec::new();
        let deleted_at = crate::model::now_rfc3339();
        for item in self.turns.iter() {
            let (k, bytes) = item.map_err(|e| self.sled(e))?;
            let turn = self.decode_turn(&bytes)?;
            if turn.branch == name && !needed.contains(&turn.id) {
                let tombstone = Tombstone {
                    branch: name.to_owned(),
                    session_id: turn.session_id.clone(),
                    prompt_uuid: None,
                    deleted_at: deleted_at.clone(),
                    lost: false,
                };
                doomed.push((k, Self::encode(&tombstone)));
            }
        }
        let forgotten = if forget_imports {
            let doomed_ids = doomed.iter().filter_map(|(k, _)| id_of(k)).collect();
            self.imports_of(&doomed_ids)?
        } else {
            Vec::new()
        };
        let children: Vec<(String, Vec<u8>)> = others
            .into_iter()
            .filter(|b| b.parent_branch.as_deref() == Some(name))
            .map(|mut b| {
                b.parent_branch = branch.parent_branch.clone();
                (b.name.clone(), Self::encode(&b))
            })
            .collect();
        (
            &self.turns,
            &self.entries,
            &self.branches,
            &self.sessions,
            &self.open,
            &self.deleted,
            &self.imports,
            &self.search,
        )
            .transaction(|(t, e, b, s, o, d, i, x)| -> TxRes<()> {
                for (k, tombstone) in &doomed {
                    t.remove(k)?;
                    e.remove(k)?;
                    x.remove(k)?;
                    o.remove(k)?;
                    d.insert(k, tombstone.as_slice())?;
                }
                for k in &forgotten {
                    i.remove(k.as_ref())?;
                }
                search_log::put_log_state(x, &None)?;
                b.remove(name.as_bytes())?;
                for (child, bytes) in &children {
                    b.insert(child.as_bytes(), bytes.as_slice())?;
                }
                if !branch.session_id.is_empty() {
                    s.remove(branch.session_id.as_bytes())?;
                }
                Ok(())
            })
            .map_err(|e| self.tx_err(e))?;
        self.drop_search_log();
        self.flush_now()?;
        Ok(doomed.len() as u64)
    }

    // ---- reads ----

    fn turn(&self, id: TurnId) -> Res<Option<Turn>> {
        match self.turns.get(key(id)).map_err(|e| self.sled(e))? {
            Some(bytes) => Ok(Some(self.decode_turn(&bytes)?)),
            None => Ok(None),
        }
    }

    fn turn_by_uuid(&self, uuid: &str) -> Res<Option<Turn>> {
        let Some(id) = self
            .uuids
            .get(uuid.as_bytes())
            .map_err(|e| self.sled(e))?
            .and_then(|v| id_of(&v))
        else {
            return Ok(None);
        };
        // A deleted turn's id may have been given to another turn since.
        Ok(self
            .turn(id)?
            .filter(|t| t.prompt_uuid.as_deref() == Some(uuid)))
    }

    fn open_turns(&self) -> Res<Vec<Turn>> {
        let mut out = Vec::new();
        for item in self.open.iter() {
            let (k, _) = item.map_err(|e| self.sled(e))?;
            if let Some(turn) = id_of(&k).map(|id| self.turn(id)).transpose()?.flatten() {
                if turn.is_running() {
                    out.push(turn);
                }
            }
        }
        Ok(out)
    }

    /// Turns whose stored record holds every word (ASCII case ignored), in id order. A big
    /// log is cut into id ranges scanned side by side, one per core.
    fn search_candidates(&self, words: &[String]) -> Res<Vec<Turn>> {
        let finders = finders(words);
        self.scan_in_parallel(|range| self.candidates_in(range, &finders))
    }

    /// Runs `scan` over the whole turns tree: in one go for a small log, else cut into id
    /// ranges scanned side by side, one per core; the parts are joined in id order.
    fn scan_in_parallel<T: Send>(
        &self,
        scan: impl Fn(std::ops::Range<[u8; 8]>) -> Res<Vec<T>> + Sync,
    ) -> Res<Vec<T>> {
        let first = self.turns.first().map_err(|e| self.sled(e))?;
        let last = self.turns.last().map_err(|e| self.sled(e))?;
        let (Some((first, _)), Some((last, _))) = (first, last) else {
            return Ok(Vec::new());
        };
        let (Some(first), Some(last)) = (id_of(&first), id_of(&last)) else {
            return scan(key(TurnId(0))..key(TurnId(u64::MAX)));
        };
        let threads = crate::parallel::threads(MAX_SCAN_THREADS) as u64;
        let (first, last) = (first.get(), last.get());
        let span = last - first + 1;
        if threads < 2 || span < PARALLEL_SCAN_TURNS || last == u64::MAX {
            return scan(key(TurnId(0))..key(TurnId(u64::MAX)));
        }
        let step = span.div_ceil(threads);
        let ranges = (0..threads)
            .map(|i| {
                let lo = first + i * step;
                let hi = (lo + step).min(last + 1);
                key(TurnId(lo))..key(TurnId(hi))
            })
            .collect();
        crate::parallel::each_on_a_thread(ranges, scan)
    }

    /// The turns in `range` whose record holds every `finders` needle (ASCII case ignored).
    fn candidates_in(
        &self,
        range: std::ops::Range<[u8; 8]>,
        finders: &[memchr::memmem::Finder<'_>],
    ) -> Res<Vec<Turn>> {
        let mut lowered = Vec::new();
        let mut out = Vec::new();
        for item in self.turns.range(range) {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            lowered.clear();
            lowered.extend(bytes.iter().map(u8::to_ascii_lowercase));
            if finders.iter().all(|f| f.find(&lowered).is_some()) {
                out.push(self.decode_turn(&bytes)?);
            }
        }
        Ok(out)
    }

    fn all_turns(&self) -> Res<Vec<Turn>> {
        let mut out = Vec::with_capacity(self.turns.len());
        for item in self.turns.iter() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            out.push(self.decode_turn(&bytes)?);
        }
        Ok(out)
    }

    fn lineage(&self, name: &str) -> Res<Vec<Turn>> {
        let branch = self.branch(name)?.ok_or_else(|| self.no_branch(name))?;
        let mut out = Vec::new();
        let mut next = branch.head;
        while let Some(id) = next {
            let turn = self.turn(id)?.ok_or(StoreError::NoTurn { id })?;
            next = turn.parent;
            if next.is_some_and(|p| p >= id) {
                // Parents always come earlier; anything else would loop.
                return Err(self.damaged(format!("the parent of turn #{id}"), "points forward"));
            }
            out.push(turn);
        }
        out.reverse();
        Ok(out)
    }

    fn entries(&self, id: TurnId) -> Res<Vec<Value>> {
        match self.entries.get(key(id)).map_err(|e| self.sled(e))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| self.damaged(format!("the transcript of turn #{id}"), e)),
            None if self.turns.contains_key(key(id)).map_err(|e| self.sled(e))? => Ok(Vec::new()),
            None => Err(StoreError::NoTurn { id }),
        }
    }

    fn branch(&self, name: &str) -> Res<Option<Branch>> {
        match self
            .branches
            .get(name.as_bytes())
            .map_err(|e| self.sled(e))?
        {
            Some(bytes) => Ok(Some(self.decode_branch(&bytes)?)),
            None => Ok(None),
        }
    }

    fn branches(&self) -> Res<Vec<Branch>> {
        let mut out = Vec::new();
        for item in self.branches.iter() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            out.push(self.decode_branch(&bytes)?);
        }
        out.sort_by(|a, b| {
            (a.created_at.as_str(), a.name.as_str()).cmp(&(b.created_at.as_str(), b.name.as_str()))
        });
        Ok(out)
    }

    fn branch_for_session(&self, session_id: &str) -> Res<Option<Branch>> {
        if session_id.is_empty() {
            return Ok(None);
        }
        if let Some(name) = self
            .sessions
            .get(session_id.as_bytes())
            .map_err(|e| self.sled(e))?
        {
            if let Some(b) = self.branch(&String::from_utf8_lossy(&name))? {
                return Ok(Some(b));
            }
        }
        // Fall back to the branch records themselves (few; only on a miss).
        Ok(self
            .branches()?
            .into_iter()
            .find(|b| b.session_id == session_id))
    }

    fn imported_keys(&self, source: &str, with_deleted: bool) -> Res<Vec<(String, TurnId)>> {
        let prefix = Self::import_key(source, "");
        let mut out = Vec::new();
        for item in self.imports.scan_prefix(&prefix) {
            let (k, v) = item.map_err(|e| self.sled(e))?;
            let id = id_of(&v).ok_or_else(|| self.damaged("an import record".into(), "bad id"))?;
            // Only a turn of this source's session is the one the key named (a store from
            // before tombstones may have given a deleted turn's id again).
            let named = match self.turn(id)? {
                Some(t) => t.session_id == source,
                None => with_deleted && self.tombstone(id)?.is_some_and(|t| t.session_id == source),
            };
            if named {
                out.push((String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), id));
            }
        }
        Ok(out)
    }

    fn tombstone(&self, id: TurnId) -> Res<Option<Tombstone>> {
        match self.deleted.get(key(id)).map_err(|e| self.sled(e))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| self.damaged("a tombstone".into(), e)),
            None => Ok(None),
        }
    }

    fn metas_with_prefix(&self, prefix: &str) -> Res<Vec<(String, Value)>> {
        let mut found = Vec::new();
        for item in self.meta.scan_prefix(prefix.as_bytes()) {
            let (key, bytes) = item.map_err(|e| self.sled(e))?;
            let key = String::from_utf8_lossy(&key).into_owned();
            let value = serde_json::from_slice(&bytes)
                .map_err(|e| self.damaged(format!("setting '{key}'"), e))?;
            found.push((key, value));
        }
        Ok(found)
    }

    fn get_meta(&self, key: &str) -> Res<Option<Value>> {
        match self.meta.get(key.as_bytes()).map_err(|e| self.sled(e))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| self.damaged(format!("setting '{key}'"), e)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod caseless_tests {
    use super::CaselessFinder;

    #[test]
    fn finds_like_a_lowercased_search() {
        let hays: [&[u8]; 8] = [
            b"",
            b"seg",
            b"SEGFAULT",
            b"a segFault here",
            b"xsegfaul",
            b"{\"content\":\"Segfault\"}",
            b"segfaultsegfault",
            b"e4 E4 x",
        ];
        for needle in ["segfault", "e4", "t", "\"c"] {
            let finder = CaselessFinder::new(needle.as_bytes());
            for hay in hays {
                let expected = hay
                    .to_ascii_lowercase()
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes());
                assert_eq!(finder.is_in(hay), expected, "{needle} in {hay:?}");
            }
        }
    }
}
