//! `ccx import [TRANSCRIPT.jsonl | --all]`: bring Claude Code sessions made without ccx into the
//! turn log, as branches.
//!
//! One transcript becomes a branch `import-<first 8 of the session id>` holding its turns (as
//! `transcript::split_turns` cuts them: exact usage, reply, files and raw entries, so the branch
//! can be resumed like any other). A transcript can hold several conversations: after a
//! `/rewind` in Claude Code, new messages hang off an earlier one (`parentUuid`), leaving more
//! than one leaf. Each leaf's conversation is the chain of its ancestors; the first becomes the
//! branch, each further one a branch forked after the last turn it shares with those before it.
//!
//! Importing is idempotent: the store remembers, per imported turn, the uuid of its last
//! transcript line (the turn's key) and the turn id it became (`Store::imported_keys`, written
//! in the same transaction as the turn), and store meta `imported:<session>` the branches, so a
//! second import adds only what is new (turns appended since, or new leaves). Sessions that ccx
//! itself recorded (a branch or turn carries the session id, and it was not imported) are
//! skipped.
//!
//! Speed: the transcript is parsed on every core, keeping each line's text so a turn's entries
//! are stored as they were read, not encoded again; the turns go to the store in batches (one
//! transaction each, one flush at the end), prepared (token estimates) on a second thread while
//! the first writes.
//!
//! Size: a transcript line over [`MAX_LINE_BYTES`] is stored cut down, with a marker saying how
//! big it was (its ids, type and usage kept, the start of its text), and so is a prompt or reply
//! over [`MAX_TEXT_BYTES`]; the import says how many. Requests to the store stay far under the
//! limit of one request to another ccx process. An import that fails takes back the branches it
//! made, turns and all, so it leaves nothing half done.
//!
//! Claude's own moves come out as live recording records them: every compaction boundary is a
//! `compact` or `summary` turn known by the boundary line (`compaction_turns`), a conversation
//! goes on across a compaction from the last line Claude kept, and each `/fork` of the session
//! (its transcript beside the session's) is a `subagent` turn on a branch of its own. `--all`
//! imports a session before the sessions Claude's `/branch` copied from it (`fork_order`), so
//! the turns they share are cut as the original has them.
//!
//! Deleted branches stay deleted: the keys of turns deleted since their import still count as
//! imported (their tombstones carry the session), unless `--include-deleted` asks for them.
//!
//! The pure part — [`conversations`] (leaves and their chains) and [`layout`] (which turns are
//! new and where they attach) — is tested on synthetic transcripts.

use crate::ids::{MetaKey, SessionId, TurnId};
use crate::model::{now_rfc3339, Branch, FinishedTurn, TurnEnd, TurnKind, TurnStart};
use crate::store::Store;
use crate::tokens;
use crate::transcript::{self, Line, LineKind, TurnFacts};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One turn read from a transcript, ready to store.
#[derive(Debug, Clone)]
pub struct PlannedTurn {
    /// The uuid of the turn's last transcript line: what identifies it across imports.
    pub key: String,
    /// The turn's transcript lines (read with their text kept, so they are stored as read).
    pub entries: Vec<Line>,
    pub facts: TurnFacts,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// `prompt`, or for a compaction `compact` / `summary` (see `compaction_turns`).
    pub kind: TurnKind,
    /// A compaction's boundary line: the turn's `prompt_uuid`, as live recording keys it.
    pub boundary_uuid: Option<String>,
}

/// The new turns of one conversation and where they attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Index of the conversation (leaf) in [`conversations`]' order.
    pub chain: usize,
    /// Key of the turn the first new turn follows (None: the conversation's first turn).
    pub after: Option<String>,
    /// Indices of the new turns in the conversation.
    pub turns: std::ops::Range<usize>,
}

fn is_message(line: &Line) -> bool {
    matches!(line.kind, LineKind::User | LineKind::Assistant)
        && !line.is_sidechain
        && line.uuid.is_some()
}

/// The parent link of a line: `parentUuid`, or across a compaction the last line Claude kept.
fn parent_of(line: &Line) -> Option<String> {
    line.parent_uuid
        .clone()
        .or_else(|| line.logical_parent_uuid().map(str::to_owned))
}

/// [`conversations`] taking the lines: a transcript with one leaf (the common case) is handed
/// back whole instead of copied.
pub fn into_conversations(lines: Vec<Line>) -> Vec<Vec<Line>> {
    if lines.is_empty() {
        return Vec::new();
    }
    if leaves(&lines).len() <= 1 {
        return vec![lines];
    }
    conversations(&lines)
}

/// The leaves of a transcript: messages no other message follows.
fn leaves(lines: &[Line]) -> Vec<usize> {
    leaves_and_parents(lines).0
}

fn leaves_and_parents(lines: &[Line]) -> (Vec<usize>, Vec<Option<usize>>) {
    let by_uuid: HashMap<&str, usize> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.uuid.as_deref().map(|u| (u, i)))
        .collect();
    let parents: Vec<Option<usize>> = lines
        .iter()
        .map(|l| parent_of(l).and_then(|p| by_uuid.get(p.as_str()).copied()))
        .collect();
    // Mark every line that has a message after it in its chain.
    let mut has_child_message = vec![false; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        if !is_message(line) {
            continue;
        }
        let mut at = parents[i];
        let mut steps = 0;
        while let Some(p) = at {
            if has_child_message[p] || steps > lines.len() {
                break;
            }
            has_child_message[p] = true;
            at = parents[p];
            steps += 1;
        }
    }
    let leaves: Vec<usize> = (0..lines.len())
        .filter(|&i| is_message(&lines[i]) && !has_child_message[i])
        .collect();
    (leaves, parents)
}

/// The conversations a transcript holds, one per leaf (a user or assistant message nothing
/// follows), in the file order of their leaves; each is its lines in file order. A transcript
/// with one leaf (no rewinds) is one conversation of all its lines; otherwise a conversation
/// holds its leaf's ancestors, the non-message lines hanging off them (hook summaries, turn
/// durations), and lines with no message ancestor at all (start-up lines).
pub fn conversations(lines: &[Line]) -> Vec<Vec<Line>> {
    let (leaves, parents) = leaves_and_parents(lines);
    if leaves.len() <= 1 {
        return if lines.is_empty() {
            Vec::new()
        } else {
            vec![lines.to_vec()]
        };
    }
    // The nearest message at or above each line (None: no message above it).
    let anchor = |i: usize| -> Option<usize> {
        let mut at = Some(i);
        let mut steps = 0;
        while let Some(j) = at {
            if is_message(&lines[j]) {
                return Some(j);
            }
            if steps > lines.len() {
                return None;
            }
            at = parents[j];
            steps += 1;
        }
        None
    };
    leaves
        .iter()
        .map(|&leaf| {
            let mut ancestors = HashSet::new();
            let mut at = Some(leaf);
            while let Some(j) = at {
                if !ancestors.insert(j) {
                    break;
                }
                at = parents[j];
            }
            lines
                .iter()
                .enumerate()
                .filter(|(i, l)| {
                    // A compaction belongs to the conversations that go on after it only.
                    l.uuid.is_some()
                        && !l.is_sidechain
                        && (ancestors.contains(i)
                            || (!l.is_compact_boundary()
                                && anchor(*i).is_none_or(|a| ancestors.contains(&a))))
                })
                .map(|(_, l)| l.clone())
                .collect()
        })
        .collect()
}

/// The earliest and the latest timestamp of `entries`. Claude does not write lines in time
/// order (a compaction's boundary is stamped after the summary and command lines written
/// after it), so the first and last lines do not bound a turn's time.
fn earliest_and_latest(entries: &[Line]) -> Option<(String, String)> {
    let mut times = entries.iter().filter_map(|l| {
        let t = l.timestamp()?;
        Some((chrono::DateTime::parse_from_rfc3339(t).ok()?, t))
    });
    let first = times.next()?;
    let (earliest, latest) = times.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t)));
    Some((earliest.1.to_owned(), latest.1.to_owned()))
}

/// The turns of one conversation. Turns with no prompt, no reply and no uuid-carrying line
/// (nothing to resume or show) are left out.
pub fn plan_turns(lines: &[Line]) -> Vec<PlannedTurn> {
    plan_turns_owned(lines.to_vec())
}

/// A turn that is only a local slash command (`/clear`, `/branch`, `/model`, ...): nothing went
/// to the model and nothing came back. Live recording makes no turn of it; neither does import.
fn is_local_command(facts: &TurnFacts) -> bool {
    facts.prompt.as_deref().is_some_and(|p| p.starts_with('/'))
        && facts.reply.is_empty()
        && facts.context_tokens == 0
        && facts.output_tokens == 0
        && !facts.compacted
}

/// [`plan_turns`] taking the lines (their raw entries are moved, not copied).
pub fn plan_turns_owned(lines: Vec<Line>) -> Vec<PlannedTurn> {
    // A local command's lines go with the turn after it (they are links in its chain).
    let mut carried: Vec<Line> = Vec::new();
    let mut split = transcript::split_turns_owned(lines);
    let count = split.len();
    for (k, (entries, facts)) in split.iter_mut().enumerate() {
        if !carried.is_empty() {
            let mut joined = std::mem::take(&mut carried);
            joined.append(entries);
            *entries = joined;
        }
        if k + 1 < count && is_local_command(facts) {
            carried = std::mem::take(entries);
        }
    }
    split
        .into_iter()
        .filter(|(entries, _)| !entries.is_empty())
        .flat_map(|(entries, facts)| crate::compaction_turns::split(entries, facts))
        .filter_map(|piece| {
            let facts = piece.facts;
            // A compaction is known by its boundary; any other turn by its last line.
            let key = piece.boundary_uuid.clone().or(facts.last_uuid.clone())?;
            if facts.prompt.is_none() && facts.reply.is_empty() && facts.context_tokens == 0 {
                return None;
            }
            let entries = piece.entries;
            let (started_at, ended_at) = earliest_and_latest(&entries)
                .or_else(|| piece.boundary_time.map(|t| (t.clone(), t)))
                .unzip();
            Some(PlannedTurn {
                key,
                started_at,
                ended_at,
                entries,
                facts,
                kind: piece.kind,
                boundary_uuid: piece.boundary_uuid,
            })
        })
        .collect()
}

/// Which turns of each conversation are new, given the keys already imported: for each
/// conversation, the turns after its last known one, attached after that turn. Keys become
/// known as conversations are laid out, so a later conversation that shares turns with an
/// earlier one forks after the last shared turn.
pub fn layout(chains: &[Vec<PlannedTurn>], known: &HashSet<String>) -> Vec<Segment> {
    let mut known = known.clone();
    let mut out = Vec::new();
    for (c, turns) in chains.iter().enumerate() {
        let first_new = turns
            .iter()
            .position(|t| !known.contains(&t.key))
            .unwrap_or(turns.len());
        if first_new == turns.len() {
            continue;
        }
        out.push(Segment {
            chain: c,
            after: first_new.checked_sub(1).map(|i| turns[i].key.clone()),
            turns: first_new..turns.len(),
        });
        known.extend(turns[first_new..].iter().map(|t| t.key.clone()));
    }
    out
}

/// What ccx remembers of an imported session: store meta `imported:<session>` holds the
/// branches its turns went to (and, in stores written before turns were remembered one by one,
/// the turn map); `Store::imported_keys(session)` gives the turns imported since.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Imported {
    /// Turn key (last line uuid) → turn id: the whole map in memory; in the meta record only
    /// what older versions of ccx wrote there.
    turns: BTreeMap<String, TurnId>,
    /// The branches this session's turns went to.
    branches: Vec<String>,
}

impl Imported {
    /// What the store remembers of `session`, or None if it was never imported.
    /// Turns deleted since their import count as imported unless `include_deleted`.
    fn load(
        store: &Store,
        session: &str,
        include_deleted: bool,
    ) -> Result<Option<(Imported, Value)>> {
        let Some(meta) = store.get_meta(&meta_key(session))? else {
            return Ok(None);
        };
        let mut imported: Imported = serde_json::from_value(meta.clone()).unwrap_or_default();
        if include_deleted {
            // What an older ccx remembered in the record may name deleted turns too.
            let alive: HashSet<TurnId> = store
                .imported_keys(session)?
                .into_iter()
                .map(|(_, id)| id)
                .collect();
            imported.turns.retain(|_, id| alive.contains(id));
            imported.turns.extend(store.imported_keys(session)?);
        } else {
            imported
                .turns
                .extend(store.imported_keys_with_deleted(session)?);
        }
        Ok(Some((imported, meta)))
    }

    /// Writes the branch list, keeping the turn map an older ccx left in `previous`.
    fn save_branches(&self, store: &Store, session: &str, previous: &Value) -> Result<()> {
        let mut record = previous.clone();
        if !record.is_object() {
            record = serde_json::json!({});
        }
        record["branches"] = serde_json::to_value(&self.branches)?;
        // An older ccx reads the record only with its turn map present.
        if record.get("turns").is_none() {
            record["turns"] = serde_json::json!({});
        }
        store.set_meta(&meta_key(session), record)
    }
}

fn meta_key(session: &str) -> MetaKey {
    MetaKey::Imported(SessionId::from(session))
}

/// What one transcript's import did.
#[derive(Debug, Default)]
pub struct Report {
    pub session: String,
    pub turns: usize,
    pub branches: BTreeSet<String>,
    /// Transcript lines, prompts and replies stored cut down for their size.
    pub truncated: usize,
    /// Why nothing was imported, when the session was skipped on purpose.
    pub skipped: Option<String>,
}

/// What the store already holds, gathered once per run.
pub struct Known {
    /// Session id → ids of the turns carrying it.
    turns_by_session: HashMap<SessionId, Vec<TurnId>>,
    /// Session ids of branches.
    branch_sessions: HashSet<SessionId>,
}

impl Known {
    /// Whether the log holds turns or a branch of Claude session `session`: ccx recorded it
    /// as it ran, or imported it before.
    pub fn has_session(&self, session: &SessionId) -> bool {
        self.turns_by_session.contains_key(session) || self.branch_sessions.contains(session)
    }

    pub fn gather(store: &Store) -> Result<Known> {
        let mut turns_by_session: HashMap<SessionId, Vec<TurnId>> = HashMap::new();
        for t in store.all_turns()? {
            turns_by_session.entry(t.session_id).or_default().push(t.id);
        }
        let branch_sessions = store
            .branches()?
            .into_iter()
            .map(|b| b.session_id)
            .collect();
        Ok(Known {
            turns_by_session,
            branch_sessions,
        })
    }
}

/// A session Claude's `/branch` or `/fork` made starts with a copy of another one's turns
/// (same uuids): those already in the log are known as what they are, and the session's own
/// turns fork after them.
fn adopt_copied_turns(
    store: &Store,
    session: &str,
    chains: &[Vec<PlannedTurn>],
    imported: &mut Imported,
) {
    for turn in chains.iter().flatten() {
        if imported.turns.contains_key(&turn.key) {
            continue;
        }
        if let Some(existing) = prompt_uuids(turn, starting_line(turn))
            .iter()
            .find_map(|u| store.turn_by_uuid(u).ok().flatten())
        {
            if existing.session_id != session {
                imported.turns.insert(turn.key.clone(), existing.id);
            }
        }
    }
}

/// Imports one transcript into `store`; `include_deleted` brings back turns deleted since an
/// earlier import.
pub fn import_transcript(
    store: &Store,
    path: &Path,
    known: &Known,
    include_deleted: bool,
) -> Result<Report> {
    let lines = transcript::read_transcript_keeping(path, transcript::Keep::Text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let session = lines
        .iter()
        .find_map(|l| l.session_id.clone())
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut report = Report {
        session: session.clone(),
        ..Default::default()
    };
    if lines.is_empty() || session.is_empty() {
        report.skipped = Some("empty transcript".into());
        return Ok(report);
    }
    let (mut imported, previous) = match Imported::load(store, &session, include_deleted)? {
        Some(found) => found,
        None => {
            if known.has_session(&SessionId::from(session.as_str())) {
                report.skipped = Some("recorded by ccx".into());
                return Ok(report);
            }
            (Imported::default(), Value::Null)
        }
    };
    let ours: HashSet<TurnId> = imported.turns.values().copied().collect();
    if known
        .turns_by_session
        .get(&SessionId::from(session.as_str()))
        .is_some_and(|ids| ids.iter().any(|id| !ours.contains(id)))
    {
        report.skipped = Some("continued through ccx since it was imported".into());
        return Ok(report);
    }

    let chains: Vec<Vec<PlannedTurn>> = into_conversations(lines)
        .into_iter()
        .map(plan_turns_owned)
        .collect();
    adopt_copied_turns(store, &session, &chains, &mut imported);
    let known_keys: HashSet<String> = imported.turns.keys().cloned().collect();
    let segments = layout(&chains, &known_keys);
    // One flush for the whole import instead of one per batch.
    let branches_before = imported.branches.len();
    let written = store.bulk(|| {
        write_segments(
            store,
            &Target {
                session: &session,
                previous: &previous,
            },
            &chains,
            &segments,
            &mut imported,
            &mut report,
        )
    });
    if let Err(err) = written {
        // Take back what this import made: nothing half done stays.
        for name in &imported.branches[branches_before..] {
            if let Err(undo) = store.undo_import_branch(name) {
                return Err(err.context(format!(
                    "and the branch it made, {name}, could not be taken back: {undo:#}"
                )));
            }
        }
        return Err(err);
    }
    let mut report = finish_import(store, &session, &chains, &imported, report)?;
    // Freeing a big transcript's parsed lines takes a while (a fifth of a second for 100 MB):
    // let another thread do it while this one goes on, or the process ends.
    let _ = std::thread::Builder::new()
        .name("ccx-import-free".into())
        .spawn(move || drop(chains));
    import_forks(store, path, &session, &mut report)?;
    Ok(report)
}

/// Claude's `/fork`s of the session (their transcripts beside it, see `forks`), as live
/// recording records them: a `subagent` turn on a branch forked after the turn the fork
/// started from. A fork already in the log is left alone.
fn import_forks(store: &Store, path: &Path, session: &str, report: &mut Report) -> Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    let forks = crate::forks::finished_forks(dir, session);
    if forks.is_empty() {
        return Ok(());
    }
    let mut follower = crate::conversation::Follower::new(path.to_path_buf());
    follower.refresh()?;
    for fork in forks {
        if store.turn_by_uuid(&fork.directive_uuid)?.is_some() {
            continue;
        }
        let at = &fork.parent_last_uuid;
        let Some(parent) = crate::recorder::turn_of_line(store, &follower, at)? else {
            continue;
        };
        report
            .branches
            .insert(crate::recorder::record_fork(store, fork, &parent)?);
        report.turns += 1;
    }
    Ok(())
}

/// Most turns, and most bytes of transcript entries, in one `import_turns` request: a request
/// to another ccx process stays far under the socket's limit, and the encoding thread can run
/// ahead of the writes by a batch or two.
const BATCH_TURNS: usize = 256;
const BATCH_BYTES: usize = 8 << 20;

/// A batch of a segment's turns, ready to store.
struct Batch {
    segment: usize,
    turns: Vec<FinishedTurn>,
}

/// The session being imported and where its records go.
struct Target<'a> {
    session: &'a str,
    /// The `imported:` record as it was before this import (Null if none).
    previous: &'a Value,
}

/// The line that starts a planned turn (its prompt, or the command it ran), if it has one.
fn starting_line(turn: &PlannedTurn) -> Option<&Line> {
    turn.entries
        .iter()
        .rev()
        .find(|l| transcript::starts_turn(l))
}

/// The uuids a turn's starting line (`start`, from [`starting_line`]) is known by (its own,
/// and the one it was copied from); for a compaction, its boundary's.
fn prompt_uuids(turn: &PlannedTurn, start: Option<&Line>) -> Vec<String> {
    let line = match &turn.boundary_uuid {
        Some(b) => turn.entries.iter().find(|l| l.uuid.as_deref() == Some(b)),
        None => start,
    };
    let Some(line) = line else {
        return turn.boundary_uuid.iter().cloned().collect();
    };
    line.uuid
        .iter()
        .cloned()
        .chain(line.forked_from_uuid().map(str::to_owned))
        .collect()
}

/// A prompt of the person's (`start`, from [`starting_line`]) that Claude never answered (no
/// assistant line at all). Interrupted before its first token, Claude drops the prompt from the
/// conversation and writes no marker; live recording marks such a turn interrupted (no `Stop`
/// came), and so does import.
fn unanswered(planned: &PlannedTurn, start: Option<&Line>) -> bool {
    planned.kind == TurnKind::Prompt
        && planned.facts.reply.is_empty()
        && start.is_some_and(transcript::is_prompt_line)
        && !planned
            .entries
            .iter()
            .any(|l| l.kind == LineKind::Assistant)
}

/// A planned turn as the store takes it: the entries joined into one JSON array, the token
/// estimate made.
fn finished_turn(
    planned: &PlannedTurn,
    session: &str,
    truncated: &mut usize,
) -> Result<FinishedTurn> {
    let facts = &planned.facts;
    let prompt = capped_text(facts.prompt.as_deref().unwrap_or_default(), truncated);
    let reply = capped_text(&facts.reply, truncated);
    let started_at = planned.started_at.clone().unwrap_or_else(now_rfc3339);
    let est_tokens = tokens::estimate_tokens(&prompt) + tokens::estimate_tokens(&facts.reply);
    let start = starting_line(planned);
    Ok(FinishedTurn {
        start: TurnStart {
            branch: String::new(),
            kind: planned.kind,
            prompt,
            input: None,
            session_id: session.into(),
            started_at: started_at.clone(),
            prompt_uuid: prompt_uuids(planned, start).into_iter().next(),
            // A compaction has no prompt of the person's, live or imported.
            prompt_id: start
                .filter(|_| planned.boundary_uuid.is_none())
                .and_then(|l| l.prompt_id().map(str::to_owned)),
            ..Default::default()
        },
        end: TurnEnd {
            reply,
            ended_at: planned.ended_at.clone().unwrap_or(started_at),
            context_tokens: facts.context_tokens,
            output_tokens: facts.output_tokens,
            est_tokens,
            interrupted: facts.interrupted || unanswered(planned, start),
            files: facts.files.clone(),
            snapshot: None,
            entries: Vec::new(),
        },
        entries: capped_entries_json(&planned.entries, truncated)?,
        source_key: planned.key.clone(),
        search_text: Some(crate::tool_calls::search_texts(
            planned.entries.iter().map(|l| &l.raw),
        )),
    })
}

/// The largest transcript line stored whole; a bigger one is cut down ([`cut_line`]).
pub const MAX_LINE_BYTES: usize = 4 << 20;
/// The largest prompt or reply stored whole.
pub const MAX_TEXT_BYTES: usize = 4 << 20;
/// The most transcript text one turn stores; lines past it are cut down too.
const MAX_TURN_ENTRY_BYTES: usize = 16 << 20;
/// How much of a cut-down line's text is kept.
const KEPT_TEXT_BYTES: usize = 64 << 10;
/// Fields of a cut-down line kept whole when their JSON is at most this long.
const SMALL_FIELD_BYTES: usize = 4 << 10;

/// The first `max` bytes of `text` at a character boundary.
fn head(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text`, or its start with a marker when it is over [`MAX_TEXT_BYTES`] (counted).
fn capped_text(text: &str, truncated: &mut usize) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_owned();
    }
    *truncated += 1;
    format!(
        "{}\n[ccx: truncated: {} bytes in the transcript]",
        head(text, MAX_TEXT_BYTES),
        text.len()
    )
}

/// A transcript line cut down to what identifies it: its small fields (type, uuid, parentUuid,
/// sessionId, timestamp, ...), its message's small fields (role, id, model, usage) and the
/// start of its text, marked `ccxTruncated` with the size it had.
fn cut_line(line: &Line, size: usize) -> Value {
    let small = |v: &Value| serde_json::to_string(v).is_ok_and(|s| s.len() <= SMALL_FIELD_BYTES);
    let mut out = serde_json::Map::new();
    if let Some(fields) = line.raw.as_object() {
        for (k, v) in fields {
            if k != "message" && small(v) {
                out.insert(k.clone(), v.clone());
            }
        }
        if let Some(message) = fields.get("message").and_then(Value::as_object) {
            let mut kept = serde_json::Map::new();
            for (k, v) in message {
                if k != "content" && small(v) {
                    kept.insert(k.clone(), v.clone());
                }
            }
            let text = format!(
                "{}\n[ccx: truncated: this transcript line was {size} bytes]",
                head(&line.text(), KEPT_TEXT_BYTES)
            );
            let content = match message.get("content") {
                Some(Value::String(_)) => Value::String(text),
                _ => serde_json::json!([{"type": "text", "text": text}]),
            };
            kept.insert("content".into(), content);
            out.insert("message".into(), Value::Object(kept));
        }
    }
    out.insert("ccxTruncated".into(), serde_json::json!({ "bytes": size }));
    Value::Object(out)
}

/// [`entries_json`] with every line over [`MAX_LINE_BYTES`] (or past [`MAX_TURN_ENTRY_BYTES`]
/// for the turn) cut down ([`cut_line`]), counting them in `truncated`.
fn capped_entries_json(lines: &[Line], truncated: &mut usize) -> Result<String> {
    let size = |l: &Line| match &l.text {
        Some(text) => text.len(),
        None => serde_json::to_string(&l.raw).map_or(0, |s| s.len()),
    };
    let mut total = 0;
    let mut any_cut = false;
    let capped: Vec<Line> = lines
        .iter()
        .map(|line| {
            let n = size(line);
            if n <= MAX_LINE_BYTES && total + n <= MAX_TURN_ENTRY_BYTES {
                total += n;
                return line.clone();
            }
            any_cut = true;
            *truncated += 1;
            let mut cut = line.clone();
            cut.raw = cut_line(line, n);
            cut.text = None;
            total += serde_json::to_string(&cut.raw).map_or(0, |s| s.len());
            cut
        })
        .collect();
    if !any_cut {
        return entries_json(lines);
    }
    entries_json(&capped)
}

/// A turn's lines as the text of one JSON array: each line as it was read when its text was
/// kept (it parsed as JSON, so the array is JSON too), else encoded again.
pub fn entries_json(lines: &[Line]) -> Result<String> {
    let mut out = String::with_capacity(
        2 + lines
            .iter()
            .map(|l| l.text.as_ref().map_or(0, |t| t.len() + 1))
            .sum::<usize>(),
    );
    out.push('[');
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        match &line.text {
            Some(text) => out.push_str(text),
            None => out.push_str(&serde_json::to_string(&line.raw)?),
        }
    }
    out.push(']');
    Ok(out)
}

/// Encodes the new turns of every segment into batches, in order, on the calling thread,
/// handing each to `send`; stops early when `send` says the writer has gone.
fn encode_batches(
    chains: &[Vec<PlannedTurn>],
    segments: &[Segment],
    session: &str,
    truncated: &mut usize,
    mut send: impl FnMut(Result<Batch>) -> bool,
) {
    for (index, seg) in segments.iter().enumerate() {
        let mut turns = Vec::new();
        let mut bytes = 0;
        for planned in &chains[seg.chain][seg.turns.clone()] {
            let turn = match finished_turn(planned, session, truncated) {
                Ok(turn) => turn,
                Err(e) => {
                    send(Err(e));
                    return;
                }
            };
            bytes += turn.entries.len() + turn.end.reply.len() + turn.start.prompt.len();
            turns.push(turn);
            if turns.len() >= BATCH_TURNS || bytes >= BATCH_BYTES {
                bytes = 0;
                let full = Batch {
                    segment: index,
                    turns: std::mem::take(&mut turns),
                };
                if !send(Ok(full)) {
                    return;
                }
            }
        }
        if !turns.is_empty()
            && !send(Ok(Batch {
                segment: index,
                turns,
            }))
        {
            return;
        }
    }
}

/// Writes the new turns of every segment. The turns are prepared (entries joined, the token
/// estimate made) on a second thread while this one writes the batches before them.
fn write_segments(
    store: &Store,
    target: &Target<'_>,
    chains: &[Vec<PlannedTurn>],
    segments: &[Segment],
    imported: &mut Imported,
    report: &mut Report,
) -> Result<()> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Batch>>(2);
        let session = target.session;
        let encoder = scope.spawn(move || {
            let mut truncated = 0;
            encode_batches(chains, segments, session, &mut truncated, |b| {
                tx.send(b).is_ok()
            });
            truncated
        });
        let mut current: Option<(usize, String)> = None;
        // Dropping `rx` on an error stops the encoding thread at its next batch.
        for batch in rx {
            let batch = batch?;
            let branch = match &current {
                Some((seg, name)) if *seg == batch.segment => name.clone(),
                _ => {
                    let name = segment_branch(store, target, &segments[batch.segment], imported)?;
                    current = Some((batch.segment, name.clone()));
                    name
                }
            };
            let keys: Vec<String> = batch.turns.iter().map(|t| t.source_key.clone()).collect();
            let ids = store.import_turns(&branch, target.session, batch.turns)?;
            report.turns += ids.len();
            imported.turns.extend(keys.into_iter().zip(ids));
            report.branches.insert(branch);
        }
        report.truncated += encoder.join().unwrap_or(0);
        Ok(())
    })
}

/// The branch a segment's turns go to: one of this session's branches whose head is the turn
/// the segment follows, else a new branch forked there (remembered in the `imported:` record).
fn segment_branch(
    store: &Store,
    target: &Target<'_>,
    seg: &Segment,
    imported: &mut Imported,
) -> Result<String> {
    let parent = seg
        .after
        .as_ref()
        .map(|k| {
            imported
                .turns
                .get(k)
                .copied()
                .with_context(|| format!("turn {k} was imported but is not remembered"))
        })
        .transpose()?;
    // The turn it follows was deleted (with its branch): the new turns start a branch of
    // their own.
    let parent = match parent {
        Some(pid) if store.turn(pid)?.is_none() => None,
        other => other,
    };
    if let Some(pid) = parent {
        for name in &imported.branches {
            if store.branch(name)?.is_some_and(|b| b.head == Some(pid)) {
                return Ok(name.clone());
            }
        }
    }
    let name = crate::branch_names::free(
        store,
        crate::branch_names::NewBranch::Import {
            session: target.session,
        },
    )?;
    let parent_branch = match parent {
        Some(pid) => store.turn(pid)?.map(|t| t.branch),
        None => None,
    };
    store.create_branch(Branch {
        name: name.clone(),
        session_id: SessionId::random(),
        parent_branch,
        fork_turn: parent,
        head: parent,
        created_at: String::new(),
    })?;
    imported.branches.push(name.clone());
    imported.save_branches(store, target.session, target.previous)?;
    Ok(name)
}

fn finish_import(
    store: &Store,
    session: &str,
    chains: &[Vec<PlannedTurn>],
    imported: &Imported,
    report: Report,
) -> Result<Report> {
    let session = SessionId::from(session);
    // The branch holding the conversation Claude Code resumes (the last leaf) carries the
    // session, so `ccx --resume <session>` goes on recording there.
    if report.turns > 0 {
        let last_key = chains.iter().rev().find_map(|c| c.last()).map(|t| &t.key);
        if let Some(id) = last_key.and_then(|k| imported.turns.get(k)) {
            if let Some(turn) = store.turn(*id)? {
                if let Some(mut b) = store.branch(&turn.branch)? {
                    if b.session_id != session && imported.branches.contains(&b.name) {
                        b.session_id = session.clone();
                        store.put_branch(b)?;
                    }
                }
            }
        }
    }
    Ok(report)
}

/// The transcripts of a project, oldest first, each after the session it was copied from
/// ([`crate::fork_order`]).
pub fn project_transcripts(config_dir: &Path, project: &Path) -> Vec<PathBuf> {
    let dir = config_dir
        .join("projects")
        .join(crate::claude::paths::project_dir_name(project));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|e| e == "jsonl")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .map(|p| {
            let modified = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (modified, p)
        })
        .collect();
    files.sort();
    let paths: Vec<PathBuf> = files.into_iter().map(|(_, p)| p).collect();
    crate::fork_order::originals_first(&paths)
        .into_iter()
        .map(|i| paths[i].clone())
        .collect()
}

/// `ccx import [TRANSCRIPT.jsonl | --all]`.
pub fn run(path: Option<PathBuf>, all: bool, include_deleted: bool) -> Result<i32> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let project = crate::paths::project_dir(&cwd);
    let paths = match (path, all) {
        (Some(_), true) => anyhow::bail!("give a TRANSCRIPT.jsonl or --all, not both"),
        (None, false) => anyhow::bail!(
            "give a transcript to import (ccx import SESSION.jsonl) or --all for every \
             Claude Code session of this project"
        ),
        (Some(p), false) => {
            if !p.is_file() {
                anyhow::bail!("no transcript at {}", p.display());
            }
            vec![p]
        }
        (None, true) => {
            let config = crate::claude::paths::require_config_dir()?;
            let found = project_transcripts(&config, &project);
            if found.is_empty() {
                println!(
                    "nothing new to import: no Claude Code sessions for this project in {}",
                    config
                        .join("projects")
                        .join(crate::claude::paths::project_dir_name(&project))
                        .display()
                );
                return Ok(0);
            }
            found
        }
    };
    let store = std::sync::Arc::new(crate::store::open_project(&cwd)?);
    // Turns a dead ccx left running are finished first, from the same transcripts.
    crate::closure::close_dead_turns(
        &store,
        crate::claude::paths::project_transcripts_dir(&cwd).as_deref(),
    );
    let known = Known::gather(&store)?;
    let mut turns = 0;
    let mut branches = BTreeSet::new();
    let mut failed = false;
    let mut truncated = 0;
    for path in &paths {
        match import_transcript(&store, path, &known, include_deleted) {
            Ok(report) => {
                truncated += report.truncated;
                if let Some(why) = &report.skipped {
                    if !all || why != "recorded by ccx" {
                        eprintln!("ccx: skipped session {}: {why}", report.session);
                    }
                }
                turns += report.turns;
                branches.extend(report.branches);
            }
            Err(err) => {
                failed = true;
                eprintln!("ccx: cannot import {}: {err:#}", path.display());
            }
        }
    }
    if turns == 0 {
        println!("nothing new to import");
    } else {
        println!(
            "imported {turns} turn{} on {} branch{}: {}",
            if turns == 1 { "" } else { "s" },
            branches.len(),
            if branches.len() == 1 { "" } else { "es" },
            branches.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if truncated > 0 {
        println!(
            "{truncated} transcript line{} or text{} over {} MiB {} stored cut down, marked \
             \"[ccx: truncated ...]\"",
            if truncated == 1 { "" } else { "s" },
            if truncated == 1 { "" } else { "s" },
            MAX_LINE_BYTES >> 20,
            if truncated == 1 { "was" } else { "were" },
        );
    }
    Ok(if failed { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(uuid: &str, parent: Option<&str>, text: &str, ts: &str) -> Value {
        json!({"type": "user", "uuid": uuid, "parentUuid": parent, "sessionId": "abcdef12-3456",
               "timestamp": ts, "message": {"role": "user", "content": text}})
    }

    fn assistant(uuid: &str, parent: &str, text: &str, ctx: u64) -> Value {
        json!({"type": "assistant", "uuid": uuid, "parentUuid": parent, "sessionId": "abcdef12-3456",
               "timestamp": "2026-01-01T12:00:05.000Z",
               "message": {"id": format!("msg-{uuid}"), "role": "assistant", "model": "m",
                           "content": [{"type": "text", "text": text}],
                           "usage": {"input_tokens": ctx - 300, "output_tokens": 5,
                                     "cache_read_input_tokens": 200, "cache_creation_input_tokens": 100}}})
    }

    fn system(uuid: &str, parent: &str) -> Value {
        json!({"type": "system", "subtype": "turn_duration", "uuid": uuid, "parentUuid": parent})
    }

    fn parse(values: &[Value]) -> Vec<Line> {
        values
            .iter()
            .cloned()
            .filter_map(Line::from_value)
            .collect()
    }

    /// Three turns, then a rewind to after turn 1 and two new turns: two leaves.
    fn rewound() -> Vec<Line> {
        parse(&[
            json!({"type": "file-history-snapshot", "messageId": "u1"}),
            user("u1", None, "first", "2026-01-01T12:00:00.000Z"),
            assistant("a1", "u1", "one", 1100),
            system("s1", "a1"),
            user("u2", Some("s1"), "second", "2026-01-01T12:01:00.000Z"),
            assistant("a2", "u2", "two", 1200),
            user("u3", Some("a2"), "third", "2026-01-01T12:02:00.000Z"),
            assistant("a3", "u3", "three", 1300),
            system("s3", "a3"),
            user(
                "v2",
                Some("s1"),
                "second, differently",
                "2026-01-01T12:03:00.000Z",
            ),
            assistant("b2", "v2", "two b", 2200),
            user("v3", Some("b2"), "third b", "2026-01-01T12:04:00.000Z"),
            assistant("b3", "v3", "three b", 2300),
        ])
    }

    /// Two turns, "first" answered "one" and "second" answered "two".
    fn two_turns() -> [Value; 4] {
        [
            user("u1", None, "first", "2026-01-01T12:00:00.000Z"),
            assistant("a1", "u1", "one", 1100),
            user("u2", Some("a1"), "second", "2026-01-01T12:01:00.000Z"),
            assistant("a2", "u2", "two", 1200),
        ]
    }

    /// The turns each conversation of `lines` plans.
    fn chains(lines: &[Line]) -> Vec<Vec<PlannedTurn>> {
        conversations(lines).iter().map(|c| plan_turns(c)).collect()
    }

    /// The segment of `chain` holding its turns `turns`, after the turn keyed `after`.
    fn segment(chain: usize, after: Option<&str>, turns: std::ops::Range<usize>) -> Segment {
        Segment {
            chain,
            after: after.map(str::to_string),
            turns,
        }
    }

    fn prompts(turns: &[PlannedTurn]) -> Vec<String> {
        turns
            .iter()
            .map(|t| t.facts.prompt.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn one_leaf_is_one_conversation_of_all_lines() {
        let lines = parse(&two_turns());
        let convs = conversations(&lines);
        assert_eq!(convs.len(), 1);
        assert_eq!(convs[0], lines);
        let turns = plan_turns(&convs[0]);
        assert_eq!(prompts(&turns), ["first", "second"]);
        assert_eq!(turns[1].facts.context_tokens, 1200);
        assert_eq!(turns[1].facts.reply, "two");
        assert_eq!(turns[0].key, "a1");
        assert_eq!(
            turns[0].started_at.as_deref(),
            Some("2026-01-01T12:00:00.000Z")
        );
        assert_eq!(
            turns[0].ended_at.as_deref(),
            Some("2026-01-01T12:00:05.000Z")
        );
    }

    #[test]
    fn two_leaves_become_a_branch_and_a_fork_after_the_shared_turn() {
        let lines = rewound();
        let convs = conversations(&lines);
        assert_eq!(convs.len(), 2, "{convs:#?}");
        let chains = chains(&lines);
        assert_eq!(prompts(&chains[0]), ["first", "second", "third"]);
        assert_eq!(
            prompts(&chains[1]),
            ["first", "second, differently", "third b"]
        );
        // Shared turn 1 has the same key in both (it ends with the same system line).
        assert_eq!(chains[0][0].key, "s1");
        assert_eq!(chains[1][0].key, "s1");
        assert_eq!(chains[0][2].key, "s3");
        assert_eq!(chains[1][2].facts.context_tokens, 2300);

        let segs = layout(&chains, &HashSet::new());
        assert_eq!(
            segs,
            vec![segment(0, None, 0..3), segment(1, Some("s1"), 1..3)]
        );
        // Everything known: nothing new. Only the first conversation known: the fork is new.
        let all: HashSet<String> = chains.iter().flatten().map(|t| t.key.clone()).collect();
        assert!(layout(&chains, &all).is_empty());
        let first: HashSet<String> = chains[0].iter().map(|t| t.key.clone()).collect();
        assert_eq!(layout(&chains, &first), vec![segment(1, Some("s1"), 1..3)]);
    }

    #[test]
    fn turns_appended_since_are_new_and_follow_the_last_known() {
        let lines = parse(&two_turns());
        let chains = vec![plan_turns(&lines)];
        let known: HashSet<String> = ["a1".to_string()].into();
        assert_eq!(layout(&chains, &known), vec![segment(0, Some("a1"), 1..2)]);
    }

    #[test]
    fn a_rewind_to_the_start_is_a_second_root() {
        let lines = parse(&[
            user("u1", None, "first", "2026-01-01T12:00:00.000Z"),
            assistant("a1", "u1", "one", 1100),
            user("w1", None, "other start", "2026-01-01T12:05:00.000Z"),
            assistant("c1", "w1", "other", 1500),
        ]);
        let chains = chains(&lines);
        assert_eq!(chains.len(), 2);
        let segs = layout(&chains, &HashSet::new());
        assert_eq!(segs[1], segment(1, None, 0..1));
    }

    #[test]
    fn compaction_does_not_split_a_conversation() {
        let lines = parse(&[
            user("u1", None, "first", "2026-01-01T12:00:00.000Z"),
            assistant("a1", "u1", "one", 1100),
            json!({"type": "system", "subtype": "compact_boundary", "uuid": "cb", "parentUuid": null,
                   "logicalParentUuid": "a1", "compactMetadata": {"postTokens": 500}}),
            user("u2", Some("cb"), "second", "2026-01-01T12:01:00.000Z"),
            assistant("a2", "u2", "two", 1200),
        ]);
        assert_eq!(conversations(&lines).len(), 1);
    }

    #[test]
    fn an_auto_compaction_before_a_reply_is_timed_by_its_boundary() {
        let lines = parse(&[
            user("u1", None, "first", "2026-01-01T12:00:00.000Z"),
            json!({"type": "system", "subtype": "compact_boundary", "uuid": "cb", "parentUuid": null,
                   "logicalParentUuid": "u1", "timestamp": "2026-01-01T12:00:03.000Z",
                   "compactMetadata": {"trigger": "auto", "postTokens": 500}}),
            json!({"type": "user", "uuid": "cs", "parentUuid": "cb", "isCompactSummary": true,
                   "message": {"role": "user", "content": "This session is being continued"}}),
            assistant("a1", "cs", "one", 1100),
        ]);
        let turns = plan_turns(&lines);
        assert_eq!(prompts(&turns), ["first", "/compact"]);
        let compact = &turns[1];
        assert_eq!(compact.kind, TurnKind::Compact);
        assert_eq!(
            (compact.started_at.as_deref(), compact.ended_at.as_deref()),
            (
                Some("2026-01-01T12:00:03.000Z"),
                Some("2026-01-01T12:00:03.000Z")
            )
        );
    }

    #[test]
    fn compactions_import_as_turns_keyed_by_their_boundary_as_live_recording_keys_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcript-compact.jsonl");
        let boundary = transcript::read_transcript(&fixture)
            .unwrap()
            .into_iter()
            .find(Line::is_compact_boundary)
            .and_then(|l| l.uuid)
            .unwrap();
        import(&store, &fixture, false);
        let turns = store.all_turns().unwrap();
        let compact: Vec<_> = turns
            .iter()
            .filter(|t| t.kind == TurnKind::Compact)
            .collect();
        assert_eq!(compact.len(), 1, "{turns:#?}");
        assert_eq!(compact[0].prompt, "/compact keep the plan");
        assert_eq!(compact[0].prompt_uuid.as_deref(), Some(boundary.as_str()));
        // From the `/compact` line to its output, though the boundary is stamped after both.
        assert_eq!(
            (
                compact[0].started_at.as_str(),
                compact[0].ended_at.as_deref()
            ),
            ("2026-11-22T03:31:53.193Z", Some("2026-11-22T03:31:53.446Z"))
        );
        let after = turns.iter().find(|t| t.prompt == "after compact").unwrap();
        assert_eq!(after.parent, Some(compact[0].id));
    }

    /// The rewind menu's "Summarize from here" on turn 2: turns 2 and 3 are summarised away.
    #[test]
    fn a_summary_from_here_forks_after_the_turn_it_keeps_and_is_not_in_the_old_conversation() {
        let t = "2026-01-01T12:00:00.000Z";
        let lines = parse(&[
            user("u1", None, "first", t),
            assistant("a1", "u1", "one", 1100),
            system("d1", "a1"),
            user("u2", Some("d1"), "second", t),
            assistant("a2", "u2", "two", 1200),
            user("u3", Some("a2"), "third", t),
            assistant("a3", "u3", "three", 1300),
            json!({"type": "system", "subtype": "compact_boundary", "uuid": "cb", "parentUuid": null,
                   "logicalParentUuid": "d1", "compactMetadata": {"trigger": "manual",
                   "messagesSummarized": 4, "postTokens": 500,
                   "preservedSegment": {"headUuid": "u1", "tailUuid": "d1"}}}),
            json!({"type": "user", "uuid": "sum", "parentUuid": "cb", "isCompactSummary": true,
                   "message": {"role": "user", "content": "This session is being continued"}}),
            user("u4", Some("sum"), "fourth", t),
            assistant("a4", "u4", "four", 600),
        ]);
        let chains: Vec<Vec<PlannedTurn>> = conversations(&lines)
            .into_iter()
            .map(plan_turns_owned)
            .collect();
        assert_eq!(chains.len(), 2);
        assert_eq!(prompts(&chains[0]), ["first", "second", "third"]);
        assert_eq!(
            prompts(&chains[1]),
            ["first", crate::compaction_turns::SUMMARY_PROMPT, "fourth"]
        );
        assert_eq!(chains[1][1].kind, TurnKind::Summary);
        assert_eq!(chains[1][1].key, "cb");
        assert_eq!(chains[0][0].key, chains[1][0].key);
        let segments = layout(&chains, &HashSet::new());
        assert_eq!(
            segments[1].after.as_deref(),
            Some(chains[0][0].key.as_str())
        );
    }

    #[test]
    fn a_native_fork_imports_as_the_subagent_branch_live_recording_makes_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let session = "abcdef12-3456";
        let path = write_transcript(dir.path(), &format!("{session}.jsonl"), &two_turns());
        let session_dir = dir.path().join(session);
        crate::forks::write_test_fork(&session_dir, "look-around", "look around", "seen");
        assert_eq!(import(&store, &path, false).turns, 3);
        let turns = store.all_turns().unwrap();
        let fork = turns.iter().find(|t| t.kind == TurnKind::Subagent).unwrap();
        assert_eq!(
            (fork.prompt.as_str(), fork.reply.as_str()),
            ("look around", "seen")
        );
        assert_eq!(fork.branch, "look-around");
        let second = turns.iter().find(|t| t.prompt == "second").unwrap();
        assert_eq!(fork.parent, Some(second.id));
        assert_eq!(import(&store, &path, false).turns, 0);
        assert_eq!(store.all_turns().unwrap().len(), 3);
    }

    #[test]
    fn imports_into_a_store_once_with_the_fork() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("store");
        let store = Store::open(&data).unwrap();
        let path = write_rewound(dir.path());

        let report = import(&store, &path, false);
        assert_eq!(report.turns, 5, "{report:?}");
        assert_eq!(report.branches.len(), 2);
        let main = store.lineage("import-abcdef12").unwrap();
        assert_eq!(prompts_of(&main), ["first", "second", "third"]);
        assert_eq!(main[2].context_tokens, 1300);
        assert_eq!(main[0].started_at, "2026-01-01T12:00:00.000Z");
        let fork = store.branch("import-abcdef12-2").unwrap().unwrap();
        assert_eq!(fork.parent_branch.as_deref(), Some("import-abcdef12"));
        assert_eq!(fork.fork_turn, Some(main[0].id));
        // The last leaf's branch carries the session.
        assert_eq!(fork.session_id, "abcdef12-3456");
        let forked = store.lineage("import-abcdef12-2").unwrap();
        assert_eq!(
            prompts_of(&forked),
            ["first", "second, differently", "third b"]
        );
        assert_eq!(forked[0].id, main[0].id);
        assert!(!store.entries(forked[2].id).unwrap().is_empty());

        // Again: nothing new.
        let again = import(&store, &path, false);
        assert_eq!(again.turns, 0, "{again:?}");
        assert!(again.skipped.is_none());
        assert_eq!(store.all_turns().unwrap().len(), 5);
    }

    #[test]
    fn a_session_claude_branched_imports_as_a_fork_of_the_turns_it_copied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let original = two_turns();
        let write = |name: &str, lines: &[Value]| {
            let path = dir.path().join(name);
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(&path, text).unwrap();
            path
        };
        let a = write("abcdef12-3456.jsonl", &original);
        import(&store, &a, false);
        // `/branch` after turn 2: the same lines under a new session, marked `forkedFrom`.
        let mut copy: Vec<Value> = original
            .iter()
            .map(|l| {
                let mut l = l.clone();
                l["forkedFrom"] = json!({"sessionId": "abcdef12-3456", "messageUuid": l["uuid"]});
                l["sessionId"] = json!("99999999-0000");
                l
            })
            .collect();
        copy.push(user("u3", Some("a2"), "third", "2026-01-01T12:02:00.000Z"));
        copy.push(assistant("a3", "u3", "three", 1300));
        let b = write("99999999-0000.jsonl", &copy);
        let report = import(&store, &b, false);
        assert_eq!(report.turns, 1, "{report:?}");
        let turns = store.all_turns().unwrap();
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[2].prompt, "third");
        assert_eq!(turns[2].parent, Some(turns[1].id));
        let fork = store.branch(&turns[2].branch).unwrap().unwrap();
        assert_eq!(fork.fork_turn, Some(turns[1].id));
        assert_eq!(fork.parent_branch.as_deref(), Some("import-abcdef12"));
        assert_eq!(turns[0].prompt_uuid.as_deref(), Some("u1"));
    }

    #[test]
    fn turns_an_older_ccx_remembered_in_its_record_are_not_imported_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        // What an older ccx left after importing the first two turns: the turns, and the
        // `imported:` record mapping each turn's key to its id.
        let mut ids = Vec::new();
        for prompt in ["first", "second"] {
            let turn = store
                .begin_turn(TurnStart {
                    branch: "import-abcdef12".into(),
                    kind: TurnKind::Prompt,
                    prompt: prompt.into(),
                    input: None,
                    session_id: "abcdef12-3456".into(),
                    started_at: now_rfc3339(),
                    ..Default::default()
                })
                .unwrap();
            ids.push(turn.id);
        }
        store
            .set_meta(
                &MetaKey::Imported("abcdef12-3456".into()),
                json!({"turns": {"s1": ids[0], "a2": ids[1]}, "branches": ["import-abcdef12"]}),
            )
            .unwrap();
        let path = write_rewound(dir.path());

        let report = import(&store, &path, false);
        assert_eq!(report.turns, 3, "{report:?}");
        let main = store.lineage("import-abcdef12").unwrap();
        assert_eq!(prompts_of(&main), ["first", "second", "third"]);
        assert_eq!(&[main[0].id, main[1].id], ids.as_slice());
        let forked = store.lineage("import-abcdef12-2").unwrap();
        assert_eq!(
            prompts_of(&forked),
            ["first", "second, differently", "third b"]
        );
        // The older record's turn map is kept beside the new branch list.
        let record = store
            .get_meta(&MetaKey::Imported("abcdef12-3456".into()))
            .unwrap()
            .unwrap();
        assert_eq!(record["turns"]["a2"], json!(ids[1]));
        assert_eq!(
            record["branches"],
            json!(["import-abcdef12", "import-abcdef12-2"])
        );

        let again = import(&store, &path, false);
        assert_eq!(again.turns, 0, "{again:?}");
        assert_eq!(store.all_turns().unwrap().len(), 5);
    }

    #[test]
    fn entries_are_stored_as_read_or_encoded_again() {
        let text = "{\"type\":\"user\",  \"uuid\":\"u1\", \"n\": 1.50}\n{\"type\":\"system\",\"uuid\":\"s1\"}\n";
        let kept = transcript::parse_lines_keeping(text, transcript::Keep::Text);
        assert_eq!(
            entries_json(&kept).unwrap(),
            "[{\"type\":\"user\",  \"uuid\":\"u1\", \"n\": 1.50},{\"type\":\"system\",\"uuid\":\"s1\"}]"
        );
        let parsed = transcript::parse_lines(text);
        let again: Vec<Value> = serde_json::from_str(&entries_json(&parsed).unwrap()).unwrap();
        assert_eq!(
            again,
            parsed.iter().map(|l| l.raw.clone()).collect::<Vec<_>>()
        );
        assert_eq!(entries_json(&[]).unwrap(), "[]");
    }

    #[test]
    fn sessions_recorded_by_ccx_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        store
            .begin_turn(TurnStart {
                branch: "main".into(),
                prompt: "x".into(),
                session_id: "abcdef12-3456".into(),
                ..Default::default()
            })
            .unwrap();
        let path = dir.path().join("s.jsonl");
        let text: String = rewound().iter().map(|l| format!("{}\n", l.raw)).collect();
        std::fs::write(&path, text).unwrap();
        let report = import(&store, &path, false);
        assert_eq!(report.turns, 0);
        assert_eq!(report.skipped.as_deref(), Some("recorded by ccx"));
    }

    /// Imports the transcript at `path` into `store` (`with_deleted`: deleted branches too).
    fn import(store: &Store, path: &Path, with_deleted: bool) -> Report {
        let known = Known::gather(store).unwrap();
        import_transcript(store, path, &known, with_deleted).unwrap()
    }

    /// The prompts of `turns`, in their order.
    fn prompts_of(turns: &[crate::model::Turn]) -> Vec<&str> {
        turns.iter().map(|t| t.prompt.as_str()).collect()
    }

    /// [`rewound`] as the transcript of session `abcdef12-3456` in `dir`.
    fn write_rewound(dir: &Path) -> PathBuf {
        let lines: Vec<Value> = rewound().into_iter().map(|l| l.raw).collect();
        write_transcript(dir, "abcdef12-3456.jsonl", &lines)
    }

    fn write_transcript(dir: &Path, name: &str, lines: &[Value]) -> PathBuf {
        let path = dir.join(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Esc before Claude's first token: Claude drops the prompt (the next one continues the
    /// turn before it) and writes no marker; the dropped prompt is an interrupted turn.
    #[test]
    fn a_prompt_claude_never_answered_imports_as_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let lines = [
            user("u1", None, "first", "2026-01-01T12:00:00.000Z"),
            assistant("a1", "u1", "one", 1100),
            user("u2", Some("a1"), "dropped", "2026-01-01T12:01:00.000Z"),
            user("u3", Some("a1"), "again", "2026-01-01T12:02:00.000Z"),
            assistant("a3", "u3", "three", 1200),
        ];
        let path = write_transcript(dir.path(), "abcdef12-3456.jsonl", &lines);
        import(&store, &path, false);
        let turns = store.all_turns().unwrap();
        let flags: Vec<(&str, bool)> = turns
            .iter()
            .map(|t| (t.prompt.as_str(), t.interrupted))
            .collect();
        assert_eq!(
            flags,
            [("first", false), ("dropped", true), ("again", false)]
        );
    }

    /// `ccx import --all` after `:delete` used to bring the deleted branch's turns back.
    #[test]
    fn a_deleted_branch_is_not_imported_again_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let values: Vec<Value> = rewound().iter().map(|l| l.raw.clone()).collect();
        let path = write_transcript(dir.path(), "abcdef12-3456.jsonl", &values);
        let known = Known::gather(&store).unwrap();
        assert_eq!(
            import_transcript(&store, &path, &known, false)
                .unwrap()
                .turns,
            5
        );
        assert_eq!(store.delete_branch("import-abcdef12-2").unwrap(), 2);

        let again = import(&store, &path, false);
        assert_eq!(again.turns, 0, "the deleted turns stay deleted: {again:?}");
        assert_eq!(store.all_turns().unwrap().len(), 3);
        assert!(store.branch("import-abcdef12-2").unwrap().is_none());

        let asked = import(&store, &path, true);
        assert_eq!(
            asked.turns, 2,
            "--include-deleted brings them back: {asked:?}"
        );
        let main = store.lineage("import-abcdef12").unwrap();
        let back = store.lineage("import-abcdef12-2").unwrap();
        assert_eq!(
            prompts_of(&back),
            ["first", "second, differently", "third b"]
        );
        assert_eq!(back[0].id, main[0].id);
        // Again without asking: nothing more.
        let known = Known::gather(&store).unwrap();
        assert_eq!(
            import_transcript(&store, &path, &known, false)
                .unwrap()
                .turns,
            0
        );
    }

    /// A line far over the limit of one request to another ccx process, imported through
    /// such a process: stored cut down with a marker, and counted.
    #[test]
    fn a_huge_line_is_stored_cut_down_through_a_client() {
        let dir = tempfile::tempdir().unwrap();
        let owner = Store::open(&dir.path().join("store")).unwrap();
        let client = Store::open(&dir.path().join("store")).unwrap();
        assert!(owner.is_owner() && !client.is_owner());
        let huge = "y".repeat(36_000_000);
        let path = write_transcript(
            dir.path(),
            "abcdef12-3456.jsonl",
            &[
                user("u1", None, &huge, "2026-01-01T12:00:00.000Z"),
                assistant("a1", "u1", "seen", 1100),
                user("u2", Some("a1"), "small", "2026-01-01T12:01:00.000Z"),
                assistant("a2", "u2", "fine", 1200),
            ],
        );
        drop(huge);
        let known = Known::gather(&client).unwrap();
        let report = import_transcript(&client, &path, &known, false).unwrap();
        assert_eq!(report.turns, 2, "{report:?}");
        assert_eq!(report.truncated, 2, "the line and the prompt it holds");
        let turns = owner.lineage("import-abcdef12").unwrap();
        assert!(turns[0].prompt.len() < MAX_TEXT_BYTES + 100);
        assert!(turns[0]
            .prompt
            .ends_with("[ccx: truncated: 36000000 bytes in the transcript]"));
        assert_eq!(turns[0].reply, "seen");
        let entries = owner.entries(turns[0].id).unwrap();
        let cut = entries.iter().find(|e| e["uuid"] == "u1").unwrap();
        assert!(cut["ccxTruncated"]["bytes"].as_u64().unwrap() > 36_000_000);
        assert_eq!(cut["parentUuid"], Value::Null);
        assert_eq!(turns[1].prompt, "small");
    }

    /// An import that fails part way takes back the branch it made: nothing half done stays.
    #[test]
    fn a_failed_import_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        // A session id the store refuses as an import source (a NUL in it), after the branch
        // named from its first 8 characters was made.
        let bad = |v: Value| {
            let mut v = v;
            v["sessionId"] = json!("abcdefgh\u{0}x");
            v
        };
        let path = write_transcript(
            dir.path(),
            "bad.jsonl",
            &[
                bad(user("u1", None, "first", "2026-01-01T12:00:00.000Z")),
                bad(assistant("a1", "u1", "one", 1100)),
            ],
        );
        let known = Known::gather(&store).unwrap();
        assert!(import_transcript(&store, &path, &known, false).is_err());
        assert!(
            store.branches().unwrap().is_empty(),
            "{:?}",
            store.branches()
        );
        assert!(store.all_turns().unwrap().is_empty());
    }
}
