//! The turn log of one project (docs/guide.md), kept in an embedded sled database under
//! `paths::project_store_dir`, shared by any number of ccx processes at once.
//!
//! sled lets one handle per path exist at a time (a second open, even in the same process,
//! fails at once with "could not acquire lock"). So the first process to open a store becomes
//! its **owner**: it holds the database and serves every other process over a private Unix
//! socket (`<runtime dir>/store-<key>.sock`, mode 0600). A process whose open hits the lock is a
//! **client** and sends the same operations as JSON lines to the owner. Every operation is one
//! [`Request`] executed by one function ([`engine::Engine::execute`]), locally or remotely, so
//! both behave the same. When the owner goes away (exits, crashes, drops its `Store`), a client
//! re-runs the open-or-connect dance — becoming the owner itself if it wins the lock — and
//! retries; writes are idempotent (a `begin_turn` carries a unique token), so a retry never
//! duplicates. Every write is flushed before it is acknowledged.

mod client;
mod engine;
mod error;
mod format;
pub mod recover;
pub mod search_log;
pub mod search_text;
mod server;
mod wire;

pub use engine::{Request, Response};
pub use error::StoreError;
pub use server::remove_stale_sockets;

use crate::ids::{MetaKey, SessionId, TurnId};
use crate::model::{now_rfc3339, Branch, FinishedTurn, Turn, TurnEnd, TurnStart};
use anyhow::{Context, Result};
use client::{CallError, Client};
use engine::Engine;
use serde_json::Value;
use server::Server;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long `open` (or a takeover) keeps trying while another process is starting or exiting.
const OPEN_WAIT: Duration = Duration::from_secs(5);
/// How many times one call may take over or reconnect before giving up.
const MAX_TAKEOVERS: u32 = 4;
/// sled's page cache ceiling for a turn log.
const CACHE_BYTES: u64 = 64 << 20;

/// Opens the turn log of the project `cwd` belongs to, and remembers where the project is
/// (for listings across projects).
pub fn open_project(cwd: &Path) -> Result<Store> {
    let project = crate::paths::project_dir(cwd);
    let dir = crate::paths::project_store_dir(&crate::paths::data_dir()?, &project);
    let store = Store::open(&dir)?;
    crate::paths::remember_project(&dir, &project);
    Ok(store)
}

/// A handle on one project's turn log. `Send + Sync`; share it with `Arc`.
pub struct Store {
    dir: PathBuf,
    socket: PathBuf,
    backend: RwLock<Arc<Backend>>,
}

enum Backend {
    Owner(Owner),
    Client(Client),
    /// The owner's database was closed after a write failed (a full disk: sled refuses every
    /// later write until it is opened again); the next request opens it again.
    Closed,
}

struct Owner {
    // Field order matters: the server stops (and joins its threads) before the database drops.
    _server: Server,
    engine: Arc<Engine>,
}

fn is_lock_error(e: &sled::Error) -> bool {
    let msg = e.to_string();
    msg.contains("could not acquire lock")
        || msg.contains("WouldBlock")
        || msg.contains("Resource temporarily unavailable")
}

/// Makes everything sled created owner-only (the directory itself is already 0700).
fn restrict_permissions(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700));
            restrict_permissions(&path);
        } else if kind.is_file() {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
    }
}

fn open_sled(path: &Path) -> std::result::Result<sled::Db, sled::Error> {
    let config = sled::Config::new().path(path).cache_capacity(CACHE_BYTES);
    // sled asserts on some kinds of damage; report those like any other damage.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open())) {
        Ok(result) => result,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "sled panicked".into());
            Err(sled::Error::ReportableBug(msg))
        }
    }
}

/// Becomes the owner if the database lock is free, else connects to the owner; retries both
/// for a bounded time while an owner is starting up or exiting.
fn establish(dir: &Path, socket: &Path) -> Result<Backend> {
    let deadline = Instant::now() + OPEN_WAIT;
    let mut delay = Duration::from_millis(2);
    loop {
        let last = match open_sled(&dir.join("db")) {
            Ok(db) => {
                restrict_permissions(dir);
                let engine = Arc::new(Engine::new(dir, db)?);
                let server = Server::start(socket, engine.clone())?;
                return Ok(Backend::Owner(Owner {
                    _server: server,
                    engine,
                }));
            }
            Err(e) if is_lock_error(&e) => match Client::connect(dir, socket) {
                Ok(client) => return Ok(Backend::Client(client)),
                Err(e) => format!("locked by another process, and its socket: {e}"),
            },
            Err(e) => return Err(StoreError::from_sled(dir, e).into()),
        };
        if Instant::now() >= deadline {
            return Err(StoreError::Unavailable {
                path: dir.display().to_string(),
                detail: last,
            }
            .into());
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
}

fn into_result(response: Response) -> Result<Response> {
    match response {
        Response::Error(e) => Err(e.into()),
        other => Ok(other),
    }
}

fn unexpected(response: Response) -> anyhow::Error {
    StoreError::Protocol {
        detail: format!("unexpected answer {response:?}"),
    }
    .into()
}

thread_local! {
    /// Set while this thread runs [`Store::bulk`].
    static DEFER_FLUSH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn deferring() -> bool {
    DEFER_FLUSH.with(|d| d.get())
}

/// Runs a request and unpacks the one answer variant it can have.
macro_rules! ask {
    ($self:ident, $req:expr, $pat:pat => $val:expr) => {
        match $self.call(&$req)? {
            $pat => Ok($val),
            other => Err(unexpected(other)),
        }
    };
}

impl Store {
    /// Opens (creating if needed, owner-only) the store in `store_dir`, as its owner or as a
    /// client of the process that owns it.
    pub fn open(store_dir: &Path) -> Result<Store> {
        crate::paths::ensure_private_dir(store_dir)?;
        let dir = store_dir
            .canonicalize()
            .with_context(|| format!("cannot open {}", store_dir.display()))?;
        let socket = crate::runtime_dir::runtime_dir()?
            .join(format!("store-{}.sock", crate::paths::path_key(&dir)));
        let backend = establish(&dir, &socket)?;
        Ok(Store {
            dir,
            socket,
            backend: RwLock::new(Arc::new(backend)),
        })
    }

    /// The store directory (canonical).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True while this process holds the database (and serves the others).
    pub fn is_owner(&self) -> bool {
        matches!(&*self.current(), Backend::Owner(_))
    }

    fn current(&self) -> Arc<Backend> {
        self.backend
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces `old` (whose owner went away) by a fresh owner-or-client, unless another thread
    /// already did.
    /// Replaces `old` (if it is still the backend) with `Closed`; the database is released
    /// once the last request using `old` has finished.
    fn close(&self, old: &Arc<Backend>) {
        let mut slot = self.backend.write().unwrap_or_else(|p| p.into_inner());
        if Arc::ptr_eq(&slot, old) {
            *slot = Arc::new(Backend::Closed);
        }
    }

    /// After a failed write closed the database: opens it again and retries the request
    /// once. None when it cannot be opened yet (the caller reports the original failure).
    fn call_once_reopened(&self, req: &Request) -> Option<Result<Response>> {
        let current = self.current();
        if matches!(&*current, Backend::Closed) {
            self.take_over(&current).ok()?;
        }
        match &*self.current() {
            Backend::Owner(owner) => Some(into_result(owner.engine.execute(req))),
            _ => None,
        }
    }

    fn take_over(&self, old: &Arc<Backend>) -> Result<()> {
        let mut slot = self.backend.write().unwrap_or_else(|p| p.into_inner());
        if Arc::ptr_eq(&slot, old) {
            *slot = Arc::new(establish(&self.dir, &self.socket)?);
        }
        Ok(())
    }

    /// Runs one request here (owner) or in the owning process (client), taking over when the
    /// owner has gone away.
    pub fn call(&self, req: &Request) -> Result<Response> {
        let mut line: Option<Vec<u8>> = None;
        let mut takeovers = 0;
        loop {
            let backend = self.current();
            let why = match &*backend {
                Backend::Owner(owner) => {
                    let response = owner.engine.execute(req);
                    if !matches!(response, Response::Error(StoreError::Io { .. })) {
                        return into_result(response);
                    }
                    // Close this handle and retry once on a fresh one; what was acknowledged
                    // before was flushed, so nothing stored is lost.
                    self.close(&backend);
                    drop(backend);
                    match self.call_once_reopened(req) {
                        Some(result) => return result,
                        None => return into_result(response),
                    }
                }
                Backend::Closed => "the turn log is being opened again".to_string(),
                Backend::Client(client) => {
                    let line = line.get_or_insert_with(|| {
                        serde_json::to_vec(req).expect("requests always serialise")
                    });
                    match client.call(line) {
                        Ok(response) => return into_result(response),
                        Err(CallError::Fatal(e)) => return Err(e.into()),
                        Err(CallError::Gone(why)) => why,
                    }
                }
            };
            takeovers += 1;
            if takeovers > MAX_TAKEOVERS {
                return Err(StoreError::Unavailable {
                    path: self.dir.display().to_string(),
                    detail: why,
                }
                .into());
            }
            self.take_over(&backend)?;
        }
    }

    /// Allocates the next id (1, 2, 3... per project), parent = the branch's head, sets the
    /// branch head to the new turn, stores the turn with `ended_at` None. Creates the branch if
    /// it does not exist (with `session_id` from `start`, no parent branch). Returns the turn.
    pub fn begin_turn(&self, mut start: TurnStart) -> Result<Turn> {
        if start.started_at.is_empty() {
            start.started_at = now_rfc3339();
        }
        if start.recorder.is_none() {
            start.recorder = Some(crate::liveness::this_process());
        }
        let token = uuid::Uuid::new_v4().to_string();
        let defer = deferring();
        ask!(self, Request::BeginTurn { token, start, defer }, Response::Turn(t) => t)
    }

    /// Completes turn `id` with `end` and stores `end.entries` beside it; durable on return
    /// (or, inside [`Store::bulk`], when the bulk write ends).
    pub fn finish_turn(&self, id: TurnId, end: TurnEnd) -> Result<Turn> {
        let defer = deferring();
        ask!(self, Request::FinishTurn { id, end, defer }, Response::Turn(t) => t)
    }

    /// Runs `write` with this thread's writes unflushed, then flushes once: for bulk writes
    /// (an import of thousands of turns), where a flush per write would cost more than the
    /// writes. sled persists in order, so a crash loses at most a suffix of the bulk.
    pub fn bulk<R>(&self, write: impl FnOnce() -> Result<R>) -> Result<R> {
        let before = DEFER_FLUSH.with(|d| d.replace(true));
        let result = write();
        DEFER_FLUSH.with(|d| d.set(before));
        let flushed = if before { Ok(()) } else { self.flush() };
        let value = result?;
        flushed?;
        Ok(value)
    }

    /// Appends `turns` (already over) to `branch` in one durable write (or, inside
    /// [`Store::bulk`], durable when the bulk write ends), remembering each turn's
    /// `source_key` under `source`; returns their ids, in order. All or none are stored.
    pub fn import_turns(
        &self,
        branch: &str,
        source: &str,
        turns: Vec<FinishedTurn>,
    ) -> Result<Vec<TurnId>> {
        let token = uuid::Uuid::new_v4().to_string();
        let defer = deferring();
        ask!(self, Request::ImportTurns { token, branch: branch.to_owned(), source: source.to_owned(), turns, defer }, Response::Ids(ids) => ids)
    }

    /// The keys remembered under `source` by [`Store::import_turns`] and the turns they
    /// became. `source` is the session the turns came from (their `session_id`): a key whose
    /// turn was deleted, or whose id now names a turn of another session, is left out.
    pub fn imported_keys(&self, source: &str) -> Result<Vec<(String, TurnId)>> {
        ask!(self, Request::ImportedKeys { source: source.to_owned(), with_deleted: false }, Response::Keys(k) => k)
    }

    /// [`Store::imported_keys`], also naming the turns deleted since (with their old ids):
    /// the keys an import must not bring back.
    pub fn imported_keys_with_deleted(&self, source: &str) -> Result<Vec<(String, TurnId)>> {
        ask!(self, Request::ImportedKeys { source: source.to_owned(), with_deleted: true }, Response::Keys(k) => k)
    }

    pub fn turn(&self, id: TurnId) -> Result<Option<Turn>> {
        ask!(self, Request::Turn { id }, Response::MaybeTurn(t) => t)
    }

    /// The turn started by the transcript line `uuid` (its `prompt_uuid`), if one was recorded.
    pub fn turn_by_uuid(&self, uuid: &str) -> Result<Option<Turn>> {
        ask!(self, Request::TurnByUuid { uuid: uuid.to_owned() }, Response::MaybeTurn(t) => t)
    }

    /// The turns begun and not yet finished, ascending id.
    pub fn open_turns(&self) -> Result<Vec<Turn>> {
        ask!(self, Request::OpenTurns, Response::Turns(t) => t)
    }

    /// The turns that may match a search for `words`: every turn holding all of them when they
    /// can be found in the stored records as they are (ASCII words JSON never escapes), else
    /// every turn. The caller matches exactly; this only spares decoding (and, for a client,
    /// sending) the turns that cannot match.
    pub fn search_candidates(&self, words: &[String]) -> Result<Vec<Turn>> {
        if words.is_empty() || !words.iter().all(|w| findable_as_stored(w)) {
            return self.all_turns();
        }
        ask!(self, Request::SearchCandidates { words: words.to_vec() }, Response::Turns(t) => t)
    }

    /// The turns that may match a deep search for `words` (in the prompt, the reply or the
    /// tool calls: commands, files, output), each with the search texts of its tool calls
    /// ([`crate::tool_calls::ToolCall::search_text`]), ascending id. Every turn when a word
    /// cannot be found in the stored bytes as it is (see `search_candidates`) or when `words`
    /// is empty (a regex search).
    pub fn deep_search_candidates(&self, words: &[String]) -> Result<Vec<(Turn, Vec<String>)>> {
        let words = if words.iter().all(|w| findable_as_stored(w)) {
            words.to_vec()
        } else {
            Vec::new()
        };
        ask!(self, Request::DeepSearchCandidates { words }, Response::TurnsWithTools(t) => t)
    }

    /// All turns of the project, ascending id.
    pub fn all_turns(&self) -> Result<Vec<Turn>> {
        ask!(self, Request::AllTurns, Response::Turns(t) => t)
    }

    /// The conversation of a branch: from its root to its head, following `parent` (crosses
    /// fork points), ascending. Fails if the branch does not exist.
    pub fn lineage(&self, branch: &str) -> Result<Vec<Turn>> {
        ask!(self, Request::Lineage { branch: branch.to_owned() }, Response::Turns(t) => t)
    }

    /// The raw transcript entries stored for a turn (empty while it runs).
    pub fn entries(&self, id: TurnId) -> Result<Vec<Value>> {
        ask!(self, Request::Entries { id }, Response::Entries(e) => e)
    }

    pub fn branch(&self, name: &str) -> Result<Option<Branch>> {
        ask!(self, Request::Branch { name: name.to_owned() }, Response::MaybeBranch(b) => b)
    }

    /// All branches, oldest first (by `created_at`, then name).
    pub fn branches(&self) -> Result<Vec<Branch>> {
        ask!(self, Request::Branches, Response::Branches(b) => b)
    }

    /// Stores a new branch; fails with a clear error if the name exists or is invalid, or if
    /// its `head`/`fork_turn` is not a stored turn. An empty `created_at` means now.
    pub fn create_branch(&self, mut branch: Branch) -> Result<Branch> {
        if branch.created_at.is_empty() {
            branch.created_at = now_rfc3339();
        }
        ask!(self, Request::CreateBranch { branch }, Response::Branch(b) => b)
    }

    /// Replaces (or creates) a branch record, e.g. with a new session id or head.
    pub fn put_branch(&self, mut branch: Branch) -> Result<()> {
        if branch.created_at.is_empty() {
            branch.created_at = now_rfc3339();
        }
        ask!(self, Request::PutBranch { branch }, Response::Done => ())
    }

    /// Renames a branch wherever it is named (its turns, child branches, its session).
    pub fn rename_branch(&self, old: &str, new: &str) -> Result<()> {
        ask!(self, Request::RenameBranch { old: old.to_owned(), new: new.to_owned() }, Response::Done => ())
    }

    /// Deletes a branch and the turns only it holds; returns how many turns were removed.
    pub fn delete_branch(&self, name: &str) -> Result<u64> {
        ask!(self, Request::DeleteBranch { name: name.to_owned(), forget_imports: false }, Response::Count(n) => n)
    }

    /// Undoes a failed import's branch: deletes it and its turns, and forgets their import
    /// keys, so the next import brings them in.
    pub fn undo_import_branch(&self, name: &str) -> Result<u64> {
        ask!(self, Request::DeleteBranch { name: name.to_owned(), forget_imports: true }, Response::Count(n) => n)
    }

    /// The branch a Claude session carries (or last carried).
    pub fn branch_for_session(&self, session_id: &SessionId) -> Result<Option<Branch>> {
        ask!(self, Request::BranchForSession { session_id: session_id.clone() }, Response::MaybeBranch(b) => b)
    }

    /// Per-project small key/values (every key is a [`MetaKey`]).
    pub fn get_meta(&self, key: &MetaKey) -> Result<Option<Value>> {
        ask!(self, Request::GetMeta { key: key.to_string() }, Response::Meta(v) => v)
    }

    /// The sessions a ccx noted it records ([`MetaKey::Recording`]), each with the process it
    /// named; sessions whose recording was finished (a null) are left out.
    pub fn recordings(&self) -> Result<Vec<(SessionId, String)>> {
        let prefix = MetaKey::Recording(SessionId::from("")).to_string();
        let found = ask!(self, Request::MetasWithPrefix { prefix }, Response::Metas(m) => m)?;
        Ok(found
            .into_iter()
            .filter_map(|(key, value)| match (MetaKey::parse(&key), value) {
                (Some(MetaKey::Recording(session)), Value::String(who)) => Some((session, who)),
                _ => None,
            })
            .collect())
    }

    pub fn set_meta(&self, key: &MetaKey, value: Value) -> Result<()> {
        let defer = deferring();
        ask!(self, Request::SetMeta { key: key.to_string(), value, defer }, Response::Done => ())
    }

    pub fn flush(&self) -> Result<()> {
        ask!(self, Request::Flush, Response::Done => ())
    }

    /// Checks every record of the log, in whichever process holds it: each decodes, each
    /// parent and branch head is a stored turn, no id given is missing. One phrase per kind of
    /// problem; empty when the log is whole.
    pub fn verify(&self) -> Result<Vec<String>> {
        ask!(self, Request::Verify, Response::Problems(p) => p)
    }
}

/// True when `word` can be looked for in a stored record's bytes as it is: ASCII that JSON
/// never escapes (no quote, backslash or control character), and not empty.
fn findable_as_stored(word: &str) -> bool {
    word.is_ascii()
        && !word.is_empty()
        && !word.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

/// Every project store under `data_dir` (for `--all`), sorted by path.
pub fn list_project_stores(data_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("projects")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("db").is_dir())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests;
