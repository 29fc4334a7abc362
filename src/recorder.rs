//! The recorder: turns hook events into turns in the store. It is the engine between the hook
//! bridge and the store — no terminal, no sockets — so it can be tested with plain events.
//!
//! Hooks are the trigger; Claude's transcript is the truth. A `UserPromptSubmit` becomes a turn
//! once the session's transcript shows the same prompt (by `promptId` or exact text; Claude
//! writes the line just after the hook ran) within [`CONFIRM_WAIT`]; otherwise it is dropped and
//! counted. The turn's parent is the turn whose prompt is the nearest one up the transcript's
//! `parentUuid` chain, so Claude's own moves — the rewind menu, `/branch`, `/fork`, `/clear`,
//! compaction and its "summarize from here" — land in the tree as what they are: a turn whose
//! parent is not its session's branch head starts a new branch forked after that parent
//! (docs/claude-session-moves.md has the measured facts). A turn ends on `Stop`, when the exact
//! usage, reply, files and transcript entries are read from the transcript's new lines. A turn
//! that gets no `Stop` (the person interrupted it) is finished as `interrupted` when the next
//! prompt arrives or the session ends. A prompt the transcript shows but no hook reported (a
//! message lost on the way) is recorded when the session's next hook arrives. A compaction is a
//! turn after the turn of the last line Claude kept (inside a running turn: after that turn
//! ends), and Claude's `/fork` (a forked subagent with its own transcript, see `forks`) a
//! `subagent` turn on a branch forked after the turn it started from.

use crate::branch_names::{self, NewBranch};
use crate::compaction_turns::{compact_prompt, summary_prompt};
use crate::conversation::Follower;
use crate::hooks::wire::HookEvent;
use crate::ids::{MetaKey, SessionId, TurnId};
use crate::model::{now_rfc3339, Branch, Turn, TurnEnd, TurnKind, TurnStart};
use crate::store::Store;
use crate::transcript;
use crate::view::{SessionView, ViewHandle};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long to wait for the transcript to hold the reply a `Stop` hook announced.
const TRANSCRIPT_SETTLE: Duration = Duration::from_secs(3);

/// How long a reported prompt may take to appear in the transcript before it is dropped.
pub const CONFIRM_WAIT: Duration = Duration::from_secs(10);

/// How long a compaction's boundary line may take to appear once Claude says it is done.
const COMPACT_WAIT: Duration = Duration::from_secs(5);

/// Pause between two looks at a transcript that is still being written.
const POLL: Duration = Duration::from_millis(10);

/// What the recorder knows of one Claude session.
#[derive(Debug, Default)]
struct SessionState {
    /// The branch to create for it when it has none (chosen by whoever started the session).
    planned_branch: Option<String>,
    follower: Option<Follower>,
    pending: Option<Pending>,
    /// The uuid of the last transcript line stored, where the next turn's lines begin.
    last_uuid: Option<String>,
    /// A compaction announced by `PreCompact`, recorded once its boundary is written.
    compacting: Option<Compaction>,
    /// An automatic compaction inside the running turn (Claude compacted before answering
    /// its prompt): recorded after that turn, once the turn has its reply.
    compact_after: Option<DoneCompaction>,
    /// Lines before this index were in the transcript when ccx first saw a session it had no
    /// record of (a resumed old conversation): history, not prompts whose hooks were lost.
    history_until: usize,
}

#[derive(Debug)]
struct Pending {
    id: TurnId,
    prompt: String,
    /// The transcript line that started the turn.
    prompt_uuid: Option<String>,
    /// Recorded from the transcript alone (no hook reported it): without a reply there, or
    /// with Claude's interruption marker, it was interrupted.
    recovered: bool,
}

#[derive(Debug, Clone)]
struct Compaction {
    /// The focus (`/compact FOCUS`); `None` until read from the `/compact` line that follows
    /// the compaction's own boundary.
    instructions: Option<String>,
    hint: Option<NextPrompt>,
}

/// A compaction whose boundary Claude has written.
#[derive(Debug, Clone)]
struct DoneCompaction {
    /// The boundary line's uuid: the compaction turn's `prompt_uuid`, as import keys it.
    boundary_uuid: Option<String>,
    /// Made by the rewind menu ("Summarize from here / up to here").
    partial: bool,
    /// The context the person added to a rewind-menu summary.
    user_context: Option<String>,
    compaction: Compaction,
}

/// What the transcript shows of a prompt a hook reported.
enum Confirmed {
    /// The person's prompt, at this line.
    Prompt(usize),
    /// A message Claude Code sent itself (a background task's notification): no turn.
    Machine,
    /// Nothing, within the wait.
    Missing,
}

/// Where a new turn sits, read from the transcript.
#[derive(Debug, Clone, PartialEq)]
enum Parent {
    /// The nearest turn up the chain.
    Turn(Box<Turn>),
    /// Nothing before it: a conversation's first turn.
    Root,
    /// Earlier prompts ccx has no turn for (recorded before turns kept their uuid): the
    /// session's branch head, as before.
    Unknown,
}

/// A hint for the next prompt of a session: what kind of turn it is and what the person typed
/// (meta-commands rewrite prompts before they reach Claude).
#[derive(Debug, Clone)]
pub struct NextPrompt {
    pub kind: TurnKind,
    pub input: Option<String>,
    /// A merge turn's source (`:merge`), remembered with the turn.
    pub merged: Option<crate::merge::Source>,
}

/// Messages to the recorder thread, which owns the recorder.
#[derive(Debug, Clone)]
pub enum RecorderMsg {
    Hook(HookEvent),
    /// A session ccx starts or resumes: record it on `branch`.
    PlanBranch {
        session_id: SessionId,
        branch: String,
        history_ends_at: Option<String>,
    },
    /// The next prompt of the session is of another kind than a typed prompt.
    ExpectPrompt {
        session_id: SessionId,
        next: NextPrompt,
    },
    Shutdown,
}

pub struct Recorder {
    store: Arc<Store>,
    /// Claude's transcript folder for this project: a session's transcript is always
    /// `<dir>/<session>.jsonl`, whatever a hook message claims. None: trust the payload's path.
    transcripts_dir: Option<PathBuf>,
    /// Hook prompts that never appeared in the transcript.
    pub unconfirmed: u64,
    /// How long a reported prompt may take to appear in the transcript.
    confirm_wait: Duration,
    sessions: HashMap<SessionId, SessionState>,
    next_prompt: HashMap<SessionId, NextPrompt>,
    /// The session's view, which the recorder keeps current.
    view: ViewHandle,
    /// Takes a snapshot of the project's files when a turn ends (in the effects journal's
    /// side repository: never the person's own).
    snapshots: Option<crate::effects::side::SideRepo>,
}

impl Recorder {
    pub fn new(store: Arc<Store>) -> Recorder {
        Recorder {
            store,
            transcripts_dir: None,
            unconfirmed: 0,
            confirm_wait: CONFIRM_WAIT,
            sessions: HashMap::new(),
            next_prompt: HashMap::new(),
            view: ViewHandle::default(),
            snapshots: None,
        }
    }

    /// Snapshots the files of `project` at every turn's end, in its side repository (a tree
    /// id; `--code` restores from it). Works whether or not the project is a git repository.
    pub fn with_snapshots(mut self, project: &std::path::Path) -> Recorder {
        self.snapshots = crate::effects::side::SideRepo::for_project(project).ok();
        self
    }

    /// Reads every session's transcript from `dir` (Claude's projects folder for this project).
    pub fn with_transcripts_dir(mut self, dir: PathBuf) -> Recorder {
        self.transcripts_dir = Some(dir);
        self
    }

    /// Waits `wait` (instead of [`CONFIRM_WAIT`]) for a reported prompt to appear.
    pub fn with_confirm_wait(mut self, wait: Duration) -> Recorder {
        self.confirm_wait = wait;
        self
    }

    /// Keeps the session's state in `view`.
    pub fn with_view(mut self, view: ViewHandle) -> Recorder {
        self.view = view;
        self
    }

    fn update_view(&self, change: impl FnOnce(&mut SessionView)) {
        self.view.update(change);
    }

    /// Records the session's turns on `branch` (created on the first turn if new).
    /// `history_ends_at`: the uuid of the last transcript line the session starts with (a
    /// rebuilt or resumed conversation), so its next turn's entries begin after it.
    pub fn plan_branch(
        &mut self,
        session_id: &SessionId,
        branch: &str,
        history_ends_at: Option<String>,
    ) {
        let state = self.sessions.entry(session_id.clone()).or_default();
        state.planned_branch = Some(branch.to_string());
        if history_ends_at.is_some() {
            state.last_uuid = history_ends_at;
        }
    }

    /// Acts on one message from the session.
    pub fn on_message(&mut self, msg: RecorderMsg) -> Result<()> {
        match msg {
            RecorderMsg::Hook(event) => self.handle(event),
            RecorderMsg::PlanBranch {
                session_id,
                branch,
                history_ends_at,
            } => {
                self.plan_branch(&session_id, &branch, history_ends_at);
                Ok(())
            }
            RecorderMsg::ExpectPrompt { session_id, next } => {
                self.expect_prompt(&session_id, next);
                Ok(())
            }
            RecorderMsg::Shutdown => Ok(()),
        }
    }

    /// Marks the next prompt of `session_id` as being of `kind`, typed as `input`.
    pub fn expect_prompt(&mut self, session_id: &SessionId, next: NextPrompt) {
        self.next_prompt.insert(session_id.clone(), next);
    }

    /// Acts on one hook event.
    pub fn handle(&mut self, event: HookEvent) -> Result<()> {
        match event {
            HookEvent::SessionStart {
                session_id,
                transcript_path,
                source,
            } => self.session_started(&session_id, transcript_path, source.as_deref()),
            HookEvent::PromptSubmitted {
                session_id,
                transcript_path,
                prompt,
                prompt_id,
            } => self.prompt_submitted(&session_id, transcript_path, prompt, prompt_id),
            HookEvent::PreCompact {
                session_id,
                instructions,
                ..
            } => self.compacting(&session_id, Some(instructions.unwrap_or_default())),
            HookEvent::Stopped {
                session_id,
                transcript_path,
                last_message,
            } => self.stopped(&session_id, transcript_path, last_message),
            HookEvent::SubagentStopped { session_id } => {
                self.follow(&session_id, None);
                self.record_forks(&session_id)
            }
            HookEvent::Other { .. } => Ok(()),
        }
    }

    /// The transcript of `session_id`: under Claude's projects folder for this project when it
    /// is known (a payload's `transcript_path` elsewhere is ignored), else the payload's path.
    fn transcript_for(&self, session_id: &SessionId, claimed: Option<String>) -> Option<PathBuf> {
        match &self.transcripts_dir {
            Some(dir) => {
                let path = dir.join(format!("{session_id}.jsonl"));
                if let Some(claimed) = claimed.filter(|c| Path::new(c) != path) {
                    crate::diag::log(&format!(
                        "hook message named transcript {claimed}; using {}",
                        path.display()
                    ));
                }
                Some(path)
            }
            None => claimed.map(PathBuf::from),
        }
    }

    /// Makes sure the session follows its transcript; refreshes it.
    fn follow(&mut self, session_id: &SessionId, claimed: Option<String>) {
        let path = self.transcript_for(session_id, claimed);
        let state = self.sessions.entry(session_id.clone()).or_default();
        let mut new = false;
        if let Some(path) = path {
            if state.follower.as_ref().is_none_or(|f| f.path() != path) {
                state.follower = Some(Follower::new(path));
                new = true;
            }
        }
        if new {
            // Who records the session: if this process dies, the next start finishes its work.
            let key = MetaKey::Recording(session_id.clone());
            let me = serde_json::Value::String(crate::liveness::this_process());
            if let Err(e) = self.store.set_meta(&key, me) {
                crate::diag::log(&format!("cannot note who records {session_id}: {e:#}"));
            }
        }
        let state = self.sessions.entry(session_id.clone()).or_default();
        if let Some(follower) = state.follower.as_mut() {
            match follower.refresh() {
                Ok(0) => {}
                Ok(added) => {
                    let lines = follower.lines();
                    crate::unknowns::note_transcript(&lines[lines.len().saturating_sub(added)..]);
                }
                Err(e) => crate::diag::log(&format!(
                    "cannot read transcript {}: {e}",
                    follower.path().display()
                )),
            }
        }
    }

    fn session_started(
        &mut self,
        session_id: &SessionId,
        transcript_path: Option<String>,
        source: Option<&str>,
    ) -> Result<()> {
        self.follow(session_id, transcript_path);
        if source == Some("compact") {
            return self.compaction_done(session_id);
        }
        let mut known = self.store.branch_for_session(session_id)?;
        let state = self.sessions.entry(session_id.clone()).or_default();
        if known.is_none() && state.last_uuid.is_none() {
            state.history_until = state.follower.as_ref().map_or(0, |f| f.lines().len());
            if let Some(follower) = &state.follower {
                // `/branch`, `/fork`: the history copied in ends at the last line carrying
                // `forkedFrom`; this session's turns begin after it.
                if let Some(at) = follower
                    .lines()
                    .iter()
                    .rposition(|l| l.forked_from_uuid().is_some() && l.uuid.is_some())
                {
                    state.last_uuid = follower.lines()[at].uuid.clone();
                    if let Parent::Turn(parent) = self.parent_at(session_id, at, true)? {
                        let title = self.title_of(session_id);
                        let name = self.fork_branch(session_id, &parent, title.as_deref())?;
                        known = self.store.branch(&name)?;
                    }
                }
            }
        }
        let head = known.as_ref().and_then(|b| b.head);
        // A session ccx recorded before: its next turn begins after the stored lines.
        if let (Some(id), None) = (
            head,
            self.sessions
                .get(session_id)
                .and_then(|s| s.last_uuid.clone()),
        ) {
            let last = last_uuid_of(&self.store.entries(id).unwrap_or_default());
            self.sessions
                .entry(session_id.clone())
                .or_default()
                .last_uuid = last;
        }
        let context = match head {
            Some(id) => self.store.turn(id)?.map(|t| t.context_tokens).unwrap_or(0),
            None => 0,
        };
        // A fresh conversation (`/clear`, a new session): show the branch it will record on.
        let branch = match known {
            Some(b) => {
                // Back on a stored branch (`:checkout`, `ccx -c`): `ccx tree` and `ccx log`
                // in another terminal name it at once, not after its next turn.
                self.remember_current_branch(&b.name);
                Some(b.name)
            }
            None if source == Some("clear") => {
                let name = self.free_root_name(session_id)?;
                self.sessions
                    .entry(session_id.clone())
                    .or_default()
                    .planned_branch = Some(name.clone());
                Some(name)
            }
            None => self
                .sessions
                .get(session_id)
                .and_then(|s| s.planned_branch.clone()),
        };
        let session = session_id.clone();
        self.update_view(|v| {
            v.session_id = Some(session);
            v.branch = branch;
            v.head = head;
            v.context_tokens = context;
        });
        Ok(())
    }

    /// `SessionStart` with source `compact`: the compaction is done; record it from its
    /// boundary line. ccx installs no PreCompact hook (Claude Code shows a line for every such
    /// hook), so unless one announced it, the focus is read from the `/compact FOCUS` line
    /// after the boundary.
    fn compaction_done(&mut self, session_id: &SessionId) -> Result<()> {
        let announced = self
            .sessions
            .get(session_id)
            .is_some_and(|s| s.compacting.is_some());
        if !announced {
            self.compacting(session_id, None)?;
        }
        self.compacted(session_id)
    }

    /// Stores `branch` as the one the session records into, for readers of the log.
    fn remember_current_branch(&self, branch: &str) {
        if let Err(err) = self.store.set_meta(
            &MetaKey::CurrentBranch,
            serde_json::Value::String(branch.to_string()),
        ) {
            crate::diag::log(&format!("cannot remember the current branch: {err:#}"));
        }
    }

    /// The session's title (`/rename`, or "<first prompt> (Branch)" after `/branch`), if any.
    fn title_of(&self, session_id: &SessionId) -> Option<String> {
        let follower = self.sessions.get(session_id)?.follower.as_ref()?;
        follower.lines().iter().rev().find_map(|l| {
            ["customTitle", "aiTitle"]
                .iter()
                .find_map(|k| l.raw.get(*k).and_then(|v| v.as_str()))
                .map(str::to_owned)
        })
    }

    /// `PreCompact`: a compaction began (`/compact`, auto-compact, or the rewind menu's
    /// summaries); it is recorded as a turn once Claude has written its boundary.
    fn compacting(&mut self, session_id: &SessionId, instructions: Option<String>) -> Result<()> {
        let hint = self.next_prompt.remove(session_id);
        self.sessions
            .entry(session_id.clone())
            .or_default()
            .compacting = Some(Compaction { instructions, hint });
        Ok(())
    }

    /// The compaction of `session_id` is done: its boundary line becomes a turn of kind
    /// `compact` (it continues the session's head) or `summary` (the rewind menu's "summarize
    /// from here / up to here", or one that continues an earlier turn), finished at once. An
    /// automatic compaction inside the running turn is recorded after that turn ends.
    fn compacted(&mut self, session_id: &SessionId) -> Result<()> {
        let boundary = self.wait_for_boundary(session_id);
        let mut compaction = self
            .sessions
            .get_mut(session_id)
            .and_then(|s| s.compacting.take())
            .unwrap_or(Compaction {
                instructions: None,
                hint: None,
            });
        let Some(at) = boundary else {
            crate::diag::log(&format!(
                "session {session_id} compacted, but its transcript shows no compaction"
            ));
            return Ok(());
        };
        if compaction.instructions.is_none() {
            compaction.instructions = Some(self.wait_for_compact_focus(session_id, at));
        }
        let (boundary_uuid, continues, partial, user_context) = {
            let follower = self.follower(session_id).context("no transcript")?;
            let line = &follower.lines()[at];
            (
                line.uuid.clone(),
                line.logical_parent_uuid().map(str::to_owned),
                line.is_partial_summary(),
                line.compact_user_context().map(str::to_owned),
            )
        };
        let done = DoneCompaction {
            boundary_uuid,
            partial,
            user_context,
            compaction,
        };
        // The boundary continues the line Claude kept last: the turn that line belongs to.
        let parent = match continues
            .as_deref()
            .and_then(|l| self.follower(session_id).and_then(|f| f.position(l)))
        {
            Some(i) => self.parent_at(session_id, i, true)?,
            None => Parent::Unknown,
        };
        let running = self
            .sessions
            .get(session_id)
            .and_then(|s| s.pending.as_ref())
            .map(|p| p.id);
        if matches!(&parent, Parent::Turn(t) if Some(t.id) == running) {
            // Claude compacted before answering the running turn's prompt: that turn goes on.
            self.sessions
                .entry(session_id.clone())
                .or_default()
                .compact_after = Some(done);
            return Ok(());
        }
        self.finish_pending(session_id, None, true)?;
        self.record_compaction(session_id, &parent, done)
    }

    /// Waits (bounded) for a compaction boundary among the session's unstored lines; its index.
    fn wait_for_boundary(&mut self, session_id: &SessionId) -> Option<usize> {
        self.poll_transcript(session_id, COMPACT_WAIT, |recorder| {
            let state = recorder.sessions.entry(session_id.clone()).or_default();
            let found = state.follower.as_ref().and_then(|f| {
                let from = state
                    .last_uuid
                    .as_deref()
                    .and_then(|u| f.position(u))
                    .map_or(0, |p| p + 1);
                f.lines()
                    .iter()
                    .enumerate()
                    .skip(from)
                    .rev()
                    .find(|(_, l)| l.is_compact_boundary())
                    .map(|(i, _)| i)
            });
            found.map_or(ControlFlow::Continue(()), |at| ControlFlow::Break(Some(at)))
        })
    }

    /// Calls `look` on the session's transcript as it grows, reading the new lines every
    /// [`POLL`], until it breaks with an answer or `wait` has passed (None then).
    fn poll_transcript<T>(
        &mut self,
        session_id: &SessionId,
        wait: Duration,
        mut look: impl FnMut(&mut Self) -> ControlFlow<Option<T>>,
    ) -> Option<T> {
        let deadline = Instant::now() + wait;
        loop {
            if let ControlFlow::Break(answer) = look(self) {
                return answer;
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
            self.follow(session_id, None);
        }
    }

    /// The focus of the `/compact FOCUS` that wrote the boundary at line `at` ("" for an
    /// automatic compaction or a rewind-menu summary, which run no `/compact`): the `/compact`
    /// command line after that boundary, never an earlier compaction's. Claude writes it just
    /// after the boundary: wait for it briefly.
    fn wait_for_compact_focus(&mut self, session_id: &SessionId, at: usize) -> String {
        self.poll_transcript(session_id, COMPACT_COMMAND_SETTLE, |recorder| {
            let found = recorder.follower(session_id).and_then(|f| {
                let lines = f.lines();
                let boundary = lines.get(at)?;
                if boundary.is_auto_compaction() || boundary.is_partial_summary() {
                    return Some(String::new());
                }
                compact_focus_after(&lines[at + 1..])
            });
            found.map_or(ControlFlow::Continue(()), |focus| {
                ControlFlow::Break(Some(focus))
            })
        })
        .unwrap_or_default()
    }

    /// Records a compaction as a finished turn after `parent`.
    fn record_compaction(
        &mut self,
        session_id: &SessionId,
        parent: &Parent,
        done: DoneCompaction,
    ) -> Result<()> {
        if let Some(u) = &done.boundary_uuid {
            if self.store.turn_by_uuid(u)?.is_some() {
                return Ok(());
            }
        }
        let head = self
            .store
            .branch_for_session(session_id)?
            .and_then(|b| b.head);
        let continues_head = match parent {
            Parent::Turn(t) => Some(t.id) == head,
            _ => true,
        };
        let compaction = done.compaction;
        let focus = compaction.instructions.as_deref().unwrap_or("");
        let (kind, prompt) = match (&compaction.hint, done.partial || !continues_head) {
            (Some(h), _) => (h.kind, compact_prompt(focus)),
            (None, false) => (TurnKind::Compact, compact_prompt(focus)),
            (None, true) => (
                TurnKind::Summary,
                summary_prompt(done.user_context.as_deref()),
            ),
        };
        let input = compaction.hint.and_then(|h| h.input);
        let end = done
            .boundary_uuid
            .as_deref()
            .and_then(|u| self.wait_for_compaction_lines(session_id, u));
        self.begin(
            session_id,
            parent,
            kind,
            prompt,
            input,
            done.boundary_uuid,
            None,
        )?;
        self.finish_pending_upto(session_id, None, false, end)
    }

    /// Waits (bounded) until the compaction whose boundary is line `boundary` has written its
    /// own lines (summary, `/compact` command and output): where they end, so the compaction
    /// turn holds them (a conversation rebuilt up to it needs its summary). None for a
    /// compaction inside a turn already stored (its lines are that turn's) or when they never
    /// came.
    fn wait_for_compaction_lines(
        &mut self,
        session_id: &SessionId,
        boundary: &str,
    ) -> Option<usize> {
        self.poll_transcript(session_id, COMPACT_WAIT, |recorder| {
            let Some(at) = recorder
                .follower(session_id)
                .and_then(|f| f.position(boundary))
            else {
                return ControlFlow::Break(None);
            };
            if at < recorder.unstored_from(session_id) {
                return ControlFlow::Break(None);
            }
            let lines = recorder.follower(session_id).map(|f| f.lines());
            match lines.and_then(|lines| crate::compaction_turns::own_lines_end(lines, at)) {
                Some(end) => ControlFlow::Break(Some(end)),
                None => ControlFlow::Continue(()),
            }
        })
    }

    /// Claude's `/fork`s of `session_id` that have answered and are not recorded yet: each
    /// becomes a finished turn of kind `subagent` on a new branch forked after the turn it
    /// started from, named as Claude named the fork.
    fn record_forks(&mut self, session_id: &SessionId) -> Result<()> {
        let Some(dir) = self.transcripts_dir.clone() else {
            return Ok(());
        };
        for fork in crate::forks::finished_forks(&dir, session_id.as_str()) {
            if self.store.turn_by_uuid(&fork.directive_uuid)?.is_some() {
                continue;
            }
            let parent = match self.follower(session_id) {
                Some(f) => turn_of_line(&self.store, f, &fork.parent_last_uuid)?,
                None => None,
            };
            let Some(parent) = parent else {
                crate::diag::log(&format!(
                    "a /fork of session {session_id} starts before any recorded turn; not recorded"
                ));
                continue;
            };
            record_fork(&self.store, fork, &parent)?;
        }
        Ok(())
    }

    /// Ends every running turn as interrupted (the session is over).
    pub fn finish_all(&mut self) -> Result<()> {
        let ids: Vec<SessionId> = self.sessions.keys().cloned().collect();
        for id in ids {
            self.follow(&id, None);
            self.record_forks(&id)?;
            self.record_unreported(&id, None)?;
            self.finish_pending(&id, None, true)?;
            // Recorded to the end: nothing for a later start to recover.
            self.store.set_meta(
                &MetaKey::Recording(SessionId::from(id.as_str())),
                serde_json::Value::Null,
            )?;
        }
        Ok(())
    }

    /// Records what the transcript of `session_id` shows after its branch's last stored turn
    /// (a ccx that recorded it died before its hooks were handled): prompts become finished
    /// turns. The session is then no longer noted as recorded by anyone.
    pub fn recover_session(&mut self, session_id: &SessionId) -> Result<()> {
        let head = self
            .store
            .branch_for_session(session_id)?
            .and_then(|b| b.head);
        if let Some(id) = head {
            let last = last_uuid_of(&self.store.entries(id).unwrap_or_default());
            self.sessions
                .entry(session_id.clone())
                .or_default()
                .last_uuid = last;
        }
        self.follow(session_id, None);
        self.record_forks(session_id)?;
        self.record_unreported(session_id, None)?;
        self.finish_pending(session_id, None, true)?;
        self.store.set_meta(
            &MetaKey::Recording(session_id.clone()),
            serde_json::Value::Null,
        )?;
        self.sessions.remove(session_id);
        Ok(())
    }

    fn follower(&self, session_id: &SessionId) -> Option<&Follower> {
        self.sessions.get(session_id)?.follower.as_ref()
    }

    /// Where the session's unstored lines begin.
    fn unstored_from(&self, session_id: &SessionId) -> usize {
        let Some(state) = self.sessions.get(session_id) else {
            return 0;
        };
        let Some(f) = &state.follower else {
            return 0;
        };
        state
            .last_uuid
            .as_deref()
            .and_then(|u| f.position(u))
            .map_or(0, |p| p + 1)
    }

    /// Waits (bounded) until the transcript shows the prompt a hook reported: a turn-starting
    /// line after the stored ones with the same `promptId`, or the same text. Its index.
    fn confirm(
        &mut self,
        session_id: &SessionId,
        prompt: &str,
        prompt_id: Option<&str>,
    ) -> Confirmed {
        let wait = self.confirm_wait;
        self.poll_transcript(session_id, wait, |recorder| {
            let from = recorder.unstored_from(session_id);
            let Some(f) = recorder.follower(session_id) else {
                return ControlFlow::Break(Some(Confirmed::Missing));
            };
            let mut machine = false;
            let found = f.lines().iter().enumerate().skip(from).find(|(_, l)| {
                let same_id = prompt_id.is_some() && l.prompt_id() == prompt_id;
                let same_text = || {
                    transcript::prompt_text(l)
                        .or_else(|| transcript::command_text(l))
                        .is_some_and(|t| t == prompt || t.trim() == prompt.trim())
                };
                if !transcript::starts_turn(l) {
                    // Claude's own message (a background task's notification) carries the
                    // prompt id of the hook it fired.
                    machine |= same_id && l.kind == transcript::LineKind::User;
                    return false;
                }
                same_id || same_text()
            });
            match (found, machine) {
                (Some((i, _)), _) => ControlFlow::Break(Some(Confirmed::Prompt(i))),
                (None, true) => ControlFlow::Break(Some(Confirmed::Machine)),
                (None, false) => ControlFlow::Continue(()),
            }
        })
        .unwrap_or(Confirmed::Missing)
    }

    fn prompt_submitted(
        &mut self,
        session_id: &SessionId,
        path: Option<String>,
        prompt: String,
        prompt_id: Option<String>,
    ) -> Result<()> {
        self.finish_pending(session_id, None, true)?;
        self.follow(session_id, path);
        let at = match self.confirm(session_id, &prompt, prompt_id.as_deref()) {
            Confirmed::Prompt(at) => at,
            // Claude's own turn: its lines go with the next turn, as import keeps them.
            Confirmed::Machine => return Ok(()),
            Confirmed::Missing => {
                self.unconfirmed += 1;
                crate::diag::log(&format!(
                    "dropped a prompt of session {session_id} that its transcript never showed ({} so far)",
                    self.unconfirmed
                ));
                return Ok(());
            }
        };
        // Prompts before it that no hook reported are turns too.
        self.record_unreported(session_id, Some(at))?;
        let uuid = self
            .follower(session_id)
            .and_then(|f| f.lines()[at].uuid.clone());
        if let Some(u) = &uuid {
            if self.store.turn_by_uuid(u)?.is_some() {
                return Ok(());
            }
        }
        let parent = self.parent_at(session_id, at, false)?;
        // Taken only once the turn is stored (a failed event is handled again later).
        let mut hint = self.next_prompt.get(session_id).cloned();
        if hint.is_none() && prompt.trim_start().starts_with("/compact") {
            hint = Some(NextPrompt {
                kind: TurnKind::Compact,
                input: None,
                merged: None,
            });
        }
        let merged = hint.as_ref().and_then(|h| h.merged.clone());
        self.begin(
            session_id,
            &parent,
            hint.as_ref().map(|h| h.kind).unwrap_or_default(),
            prompt,
            hint.and_then(|h| h.input),
            uuid,
            prompt_id,
        )?;
        self.next_prompt.remove(session_id);
        if let Some(source) = merged {
            self.remember_merge(session_id, &source);
        }
        Ok(())
    }

    /// Keeps the source of the merge turn `session_id` just began (see `crate::merge`).
    fn remember_merge(&self, session_id: &SessionId, source: &crate::merge::Source) {
        let pending = self
            .sessions
            .get(session_id)
            .and_then(|s| s.pending.as_ref());
        if let Some(id) = pending.map(|p| p.id) {
            if let Err(err) = crate::merge::remember(&self.store, id, source) {
                crate::diag::log(&format!("cannot remember what turn #{id} merged: {err:#}"));
            }
        }
    }

    /// Starts a turn of `session_id` after `parent`, on the branch that parent calls for.
    #[allow(clippy::too_many_arguments)]
    fn begin(
        &mut self,
        session_id: &SessionId,
        parent: &Parent,
        kind: TurnKind,
        prompt: String,
        input: Option<String>,
        prompt_uuid: Option<String>,
        prompt_id: Option<String>,
    ) -> Result<()> {
        let branch = self.branch_for(session_id, parent)?;
        let started_at = self.stamped_at(session_id, prompt_uuid.as_deref());
        let turn = self.store.begin_turn(TurnStart {
            branch: branch.clone(),
            kind,
            prompt: prompt.clone(),
            input,
            session_id: session_id.clone(),
            started_at,
            prompt_uuid: prompt_uuid.clone(),
            prompt_id,
            recorder: None,
        })?;
        // Only now that the turn is stored (a failed event is handled again later).
        self.next_prompt.remove(session_id);
        self.sessions.entry(session_id.clone()).or_default().pending = Some(Pending {
            id: turn.id,
            prompt,
            prompt_uuid,
            recovered: false,
        });
        self.remember_current_branch(&branch);
        self.update_view(|v| {
            v.session_id = Some(session_id.clone());
            v.branch = Some(branch);
            v.head = Some(turn.id);
        });
        Ok(())
    }

    /// When a turn started: the time Claude stamped on its prompt line, so that a prompt
    /// recovered later (after a crash, or a lost hook message) keeps its own time; now when
    /// the transcript does not show the line.
    fn stamped_at(&self, session_id: &SessionId, prompt_uuid: Option<&str>) -> String {
        let follower = self.follower(session_id);
        prompt_uuid
            .and_then(|u| follower.and_then(|f| Some(&f.lines()[f.position(u)?])))
            .and_then(|line| line.timestamp())
            .filter(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
            .map_or_else(now_rfc3339, str::to_owned)
    }

    /// Records, as finished turns, the prompts in the session's unstored lines (before line
    /// `before`, or all) that no hook reported: messages lost on the way still make turns.
    fn record_unreported(&mut self, session_id: &SessionId, before: Option<usize>) -> Result<()> {
        if self
            .sessions
            .get(session_id)
            .is_none_or(|s| s.pending.is_some())
        {
            return Ok(());
        }
        let history = self.sessions.get(session_id).map_or(0, |s| s.history_until);
        let from = self.unstored_from(session_id).max(history);
        let Some(f) = self.follower(session_id) else {
            return Ok(());
        };
        let end = before.unwrap_or(f.lines().len()).min(f.lines().len());
        let starts: Vec<usize> = (from..end)
            .filter(|&i| transcript::is_prompt_line(&f.lines()[i]))
            .collect();
        for (k, &at) in starts.iter().enumerate() {
            let f = self.follower(session_id).context("no transcript")?;
            let line = &f.lines()[at];
            let uuid = line.uuid.clone();
            if let Some(u) = &uuid {
                if self.store.turn_by_uuid(u)?.is_some() {
                    continue;
                }
            }
            // A turn is complete once a later line starts another one (or the session ends).
            let next = starts.get(k + 1).copied().or(before);
            if next.is_none() && before.is_some() {
                break;
            }
            let prompt = transcript::prompt_text(line).unwrap_or_default();
            let prompt_id = line.prompt_id().map(str::to_owned);
            crate::diag::log(&format!(
                "recording a prompt of session {session_id} that no hook reported"
            ));
            let parent = self.parent_at(session_id, at, false)?;
            self.begin(
                session_id,
                &parent,
                TurnKind::Prompt,
                prompt,
                None,
                uuid,
                prompt_id,
            )?;
            if let Some(p) = self
                .sessions
                .get_mut(session_id)
                .and_then(|s| s.pending.as_mut())
            {
                p.recovered = true;
            }
            let stop_at = next.map(|n| {
                let lines = self.follower(session_id).map(|f| f.lines()).unwrap_or(&[]);
                transcript::with_preamble(lines, n, at + 1)
            });
            self.finish_pending_upto(session_id, None, false, stop_at)?;
        }
        Ok(())
    }

    /// Where line `at` of the session's transcript sits: the turn of the nearest turn-starting
    /// line up its chain (`include_self`: line `at` itself counts).
    fn parent_at(&self, session_id: &SessionId, at: usize, include_self: bool) -> Result<Parent> {
        match self.follower(session_id) {
            Some(f) => parent_in(&self.store, f, at, include_self),
            None => Ok(Parent::Unknown),
        }
    }

    /// The branch a turn of `session_id` after `parent` is recorded on: the session's branch
    /// when the turn continues its head; else a new branch forked after `parent` (Claude's
    /// rewind menu, `/branch`, a summary of earlier turns), or a new root branch.
    fn branch_for(&mut self, session_id: &SessionId, parent: &Parent) -> Result<String> {
        let current = self.store.branch_for_session(session_id)?;
        match (parent, current) {
            (Parent::Unknown, _) => self.branch_of(session_id),
            (Parent::Turn(p), Some(b)) if b.head == Some(p.id) => Ok(b.name),
            (Parent::Turn(p), Some(b)) => {
                let rewind = NewBranch::Rewind {
                    from: &b.name,
                    after: p.id,
                };
                let base = branch_names::candidates(rewind).next();
                self.fork_branch(session_id, p, base.as_deref())
            }
            (Parent::Turn(p), None) => {
                let planned = self
                    .sessions
                    .get(session_id)
                    .and_then(|s| s.planned_branch.clone());
                self.fork_branch(session_id, p, planned.as_deref())
            }
            (Parent::Root, Some(b)) if b.head.is_none() => Ok(b.name),
            (Parent::Root, Some(_)) => self.create_branch(session_id, None),
            (Parent::Root, None) => self.branch_of(session_id),
        }
    }

    /// Creates a branch for `session_id` forked after `parent` (see [`create_fork_branch`]).
    fn fork_branch(
        &self,
        session_id: &SessionId,
        parent: &Turn,
        wanted: Option<&str>,
    ) -> Result<String> {
        create_fork_branch(&self.store, session_id, parent, wanted)
    }

    /// The name a new root branch of `session_id` would get now.
    fn free_root_name(&self, session_id: &SessionId) -> Result<String> {
        let planned = self
            .sessions
            .get(session_id)
            .and_then(|s| s.planned_branch.clone());
        branch_names::first_free(&self.store, root_names(planned))
    }

    fn stopped(
        &mut self,
        session_id: &SessionId,
        path: Option<String>,
        last_message: Option<String>,
    ) -> Result<()> {
        self.follow(session_id, path);
        if self
            .sessions
            .get(session_id)
            .is_some_and(|s| s.pending.is_none())
        {
            // Its prompt's hook message was lost: the transcript still shows the turn.
            self.record_unreported_at_stop(session_id, last_message.as_deref())?;
        } else {
            self.finish_pending(session_id, last_message, false)?;
        }
        // `SubagentStop` may come before a fork's last line is written; by the Stop of the
        // turn its notification starts, the fork's transcript is complete.
        self.record_forks(session_id)
    }

    /// A `Stop` with no running turn: once the reply it announced is written, the prompts
    /// the transcript shows that no hook reported become turns.
    fn record_unreported_at_stop(
        &mut self,
        session_id: &SessionId,
        announced: Option<&str>,
    ) -> Result<()> {
        if let Some(text) = announced {
            // Until the transcript holds the reply the Stop hook announced (or time is up).
            self.poll_transcript::<()>(session_id, TRANSCRIPT_SETTLE, |recorder| {
                let from = recorder.unstored_from(session_id);
                let Some(f) = recorder.follower(session_id) else {
                    return ControlFlow::Break(None);
                };
                let lines = &f.lines()[from.min(f.lines().len())..];
                let (_, facts) = transcript::turn_since(lines, None);
                if facts.reply.trim() == text.trim() {
                    ControlFlow::Break(None)
                } else {
                    ControlFlow::Continue(())
                }
            });
        }
        self.record_unreported(session_id, None)
    }

    /// Finishes the session's running turn, if any, from its transcript.
    fn finish_pending(
        &mut self,
        session_id: &SessionId,
        announced: Option<String>,
        interrupted: bool,
    ) -> Result<()> {
        self.finish_pending_upto(session_id, announced, interrupted, None)
    }

    /// [`Recorder::finish_pending`], reading the turn's lines up to line `end` (exclusive) when
    /// given, else up to the next turn-starting line after its prompt.
    fn finish_pending_upto(
        &mut self,
        session_id: &SessionId,
        announced: Option<String>,
        interrupted: bool,
        end: Option<usize>,
    ) -> Result<()> {
        let Some(pending) = self
            .sessions
            .get_mut(session_id)
            .and_then(|s| s.pending.take())
        else {
            return Ok(());
        };
        let (entries, mut facts) = self.read_turn(session_id, &pending, announced.as_deref(), end);
        let interrupted =
            interrupted || (pending.recovered && (facts.reply.is_empty() || facts.interrupted));
        let last_uuid_before = self
            .sessions
            .get(session_id)
            .and_then(|s| s.last_uuid.clone());
        if facts.last_uuid.is_some() {
            if let Some(state) = self.sessions.get_mut(session_id) {
                state.last_uuid = facts.last_uuid.clone();
            }
        }
        if facts.reply.is_empty() {
            facts.reply = announced.unwrap_or_default();
        }
        if facts.context_tokens == 0 {
            facts.context_tokens = self.context_after_compaction(session_id, &pending);
        }
        let model = facts.model.clone();
        let end = TurnEnd {
            interrupted,
            ..facts.into_end(&pending.prompt, now_rfc3339(), entries)
        };
        // Durable first; the snapshot (git, tens of milliseconds) is added after.
        let turn = match self.store.finish_turn(pending.id, end.clone()) {
            Ok(turn) => turn,
            Err(err) => {
                // Not stored (a full disk): the same event can be handled again later.
                if let Some(state) = self.sessions.get_mut(session_id) {
                    state.pending = Some(pending);
                    state.last_uuid = last_uuid_before;
                }
                return Err(err);
            }
        };
        self.save_summary_brief(&turn)?;
        let turn = self.with_snapshot(turn, end)?;
        self.update_view(|v| {
            if v.head == Some(turn.id) && (turn.context_tokens > 0 || !interrupted) {
                v.context_tokens = turn.context_tokens;
            }
            if model.is_some() {
                v.model = model;
            }
        });
        let deferred = self
            .sessions
            .get_mut(session_id)
            .and_then(|s| s.compact_after.take());
        if let Some(done) = deferred {
            self.record_compaction(session_id, &Parent::Turn(Box::new(turn)), done)?;
        }
        Ok(())
    }

    /// For a compaction turn with no lines of its own (Claude compacted before answering the
    /// turn it follows): the context the compaction left (`compactMetadata.postTokens`); else 0.
    fn context_after_compaction(&self, session_id: &SessionId, pending: &Pending) -> u64 {
        let Some(f) = self.follower(session_id) else {
            return 0;
        };
        pending
            .prompt_uuid
            .as_deref()
            .and_then(|u| f.position(u))
            .map(|i| &f.lines()[i])
            .filter(|l| l.is_compact_boundary())
            .and_then(|l| l.compact_metadata()?.get("postTokens")?.as_u64())
            .unwrap_or(0)
    }

    /// A finished summary turn with a reply is saved as a brief too.
    fn save_summary_brief(&self, turn: &Turn) -> Result<()> {
        if turn.kind != TurnKind::Summary || turn.interrupted || turn.reply.is_empty() {
            return Ok(());
        }
        let name = format!("summary-{}", turn.id);
        crate::briefs::save(&self.store, &name, &turn.reply, &turn.branch, Some(turn.id))?;
        let saved = format!("handoff saved as brief {name}; :brief starts a fresh session from it");
        self.update_view(|v| v.notice = Some(crate::view::Notice::new(&saved)));
        Ok(())
    }

    /// Adds a snapshot of the project's files (in the side repository) to the finished `turn`.
    fn with_snapshot(&self, turn: Turn, mut end: TurnEnd) -> Result<Turn> {
        let Some(repo) = &self.snapshots else {
            return Ok(turn);
        };
        match repo.snapshot(Instant::now() + crate::effects::side::UNHURRIED) {
            Ok(snap) => {
                end.snapshot = Some(snap.tree);
                self.store.finish_turn(turn.id, end)
            }
            Err(err) => {
                crate::diag::log(&format!("no code snapshot for turn #{}: {err:#}", turn.id));
                Ok(turn)
            }
        }
    }

    /// Reads the running turn's lines: after the last stored line, up to `end` or the next
    /// turn-starting line after its prompt; waits briefly for an announced reply to land.
    fn read_turn(
        &mut self,
        session_id: &SessionId,
        pending: &Pending,
        announced: Option<&str>,
        end: Option<usize>,
    ) -> (Vec<serde_json::Value>, transcript::TurnFacts) {
        let mut latest = None;
        let settled = self.poll_transcript(session_id, TRANSCRIPT_SETTLE, |recorder| {
            let after = recorder
                .sessions
                .get(session_id)
                .and_then(|s| s.last_uuid.clone());
            let result = match recorder.follower(session_id) {
                None => (Vec::new(), Default::default()),
                Some(f) => {
                    let lines = f.lines();
                    let prompt_at = pending.prompt_uuid.as_deref().and_then(|u| f.position(u));
                    let stop = end.unwrap_or_else(|| {
                        prompt_at
                            .and_then(|p| {
                                (p + 1..lines.len())
                                    .find(|&i| transcript::starts_turn(&lines[i]))
                                    .map(|n| transcript::with_preamble(lines, n, p + 1))
                            })
                            .unwrap_or(lines.len())
                    });
                    transcript::turn_since(&lines[..stop.min(lines.len())], after.as_deref())
                }
            };
            if announced.is_none_or(|text| result.1.reply.trim() == text.trim()) {
                return ControlFlow::Break(Some(result));
            }
            // Out of time, the turn is what the transcript holds by then.
            latest = Some(result);
            ControlFlow::Continue(())
        });
        settled.or(latest).unwrap_or_default()
    }

    /// The branch a session records into, creating it on its first turn.
    /// Asked of the store every time (not remembered): `:rename` may have renamed it meanwhile.
    fn branch_of(&mut self, session_id: &SessionId) -> Result<String> {
        if let Some(branch) = self.store.branch_for_session(session_id)? {
            return Ok(branch.name);
        }
        let planned = self
            .sessions
            .get(session_id)
            .and_then(|s| s.planned_branch.clone());
        self.create_branch(session_id, planned)
    }

    /// Creates a root branch for a new conversation under the first free name.
    fn create_branch(&self, session_id: &SessionId, planned: Option<String>) -> Result<String> {
        branch_names::create(&self.store, root_names(planned), |name| Branch {
            name,
            session_id: session_id.clone(),
            created_at: now_rfc3339(),
            ..Branch::default()
        })
        .with_context(|| format!("naming the branch of session {session_id}"))
    }
}

/// Where line `at` of `f` sits: the turn of the nearest turn-starting line up its chain
/// (`include_self`: line `at` itself counts).
fn parent_in(store: &Store, f: &Follower, at: usize, include_self: bool) -> Result<Parent> {
    let mut found: Result<Option<Parent>> = Ok(None);
    let broken = f.walk_up(at, include_self, |ancestor| {
        for uuid in &ancestor.uuids {
            match store.turn_by_uuid(uuid) {
                Ok(Some(turn)) => {
                    found = Ok(Some(Parent::Turn(Box::new(turn))));
                    return true;
                }
                Ok(None) => {}
                Err(e) => {
                    found = Err(e);
                    return true;
                }
            }
        }
        // An earlier prompt ccx has no turn for: nothing more to learn up the chain.
        if ancestor.is_prompt {
            found = Ok(Some(Parent::Unknown));
            return true;
        }
        false
    });
    if let Some(parent) = found? {
        return Ok(parent);
    }
    // A chain cut short (the file was deleted or damaged meanwhile) tells nothing.
    Ok(if broken {
        Parent::Unknown
    } else {
        Parent::Root
    })
}

/// The turn a transcript line belongs to, as its chain shows (the line itself counts): None when
/// the file does not hold the line or no recorded turn comes before it.
pub fn turn_of_line(store: &Store, f: &Follower, uuid: &str) -> Result<Option<Turn>> {
    let Some(at) = f.position(uuid) else {
        return Ok(None);
    };
    Ok(match parent_in(store, f, at, true)? {
        Parent::Turn(t) => Some(*t),
        _ => None,
    })
}

/// Stores one of Claude's `/fork`s as a finished `subagent` turn on a new branch forked after
/// `parent`, named as Claude named the fork. The branch carries the fork's own id
/// (`agent-<id>`), not the session's: the session keeps its branch. Returns the branch.
pub fn record_fork(store: &Store, fork: crate::forks::Fork, parent: &Turn) -> Result<String> {
    let fork_session = SessionId::new(format!("agent-{}", fork.agent_id));
    let branch = create_fork_branch(store, &fork_session, parent, fork.name.as_deref())?;
    let stamp = |e: &serde_json::Value| {
        e.get("timestamp")
            .and_then(|t| t.as_str())
            .map(str::to_owned)
    };
    let started_at = fork.entries.iter().find_map(stamp);
    let ended_at = fork.entries.iter().rev().find_map(stamp);
    let turn = store.begin_turn(TurnStart {
        branch: branch.clone(),
        kind: TurnKind::Subagent,
        prompt: fork.directive.clone(),
        input: None,
        session_id: fork_session,
        started_at: started_at.unwrap_or_else(now_rfc3339),
        prompt_uuid: Some(fork.directive_uuid.clone()),
        prompt_id: None,
        recorder: None,
    })?;
    let end = fork.facts.into_end(
        &fork.directive,
        ended_at.unwrap_or_else(now_rfc3339),
        fork.entries,
    );
    store.finish_turn(turn.id, end)?;
    Ok(branch)
}

/// The names a new conversation's root branch may take: the one planned for its session
/// (by `:clear`, `:brief`, ...), then a new conversation's.
fn root_names(planned: Option<String>) -> impl Iterator<Item = String> {
    planned
        .into_iter()
        .chain(branch_names::candidates(NewBranch::Conversation))
}

/// Creates a branch for `session_id` forked after `parent`, named after `wanted` (made a valid
/// branch name, numbered when taken; a new conversation's name if none).
fn create_fork_branch(
    store: &Store,
    session_id: &SessionId,
    parent: &Turn,
    wanted: Option<&str>,
) -> Result<String> {
    let names = branch_names::candidates(branch_names::after_text(wanted));
    branch_names::create(store, names, |name| Branch {
        name,
        session_id: session_id.clone(),
        parent_branch: Some(parent.branch.clone()),
        fork_turn: Some(parent.id),
        head: Some(parent.id),
        created_at: now_rfc3339(),
    })
    .with_context(|| format!("naming the branch of session {session_id}"))
}

/// The focus of the first `/compact FOCUS` command among `lines` (those after a compaction's
/// boundary), if there is one.
fn compact_focus_after(lines: &[transcript::Line]) -> Option<String> {
    lines
        .iter()
        .filter_map(transcript::command_text)
        .find_map(|c| crate::compaction_turns::compact_focus(&c).map(str::to_owned))
}

/// How long [`Recorder::wait_for_compact_focus`] waits for the `/compact` line.
const COMPACT_COMMAND_SETTLE: Duration = Duration::from_secs(5);

/// The uuid of the last line that has one.
pub fn last_uuid_of(entries: &[serde_json::Value]) -> Option<String> {
    entries
        .iter()
        .rev()
        .find_map(|e| e.get("uuid").and_then(|u| u.as_str()).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compaction_turns::SUMMARY_PROMPT;
    use serde_json::json;
    use std::io::Write;

    struct World {
        _dir: tempfile::TempDir,
        transcripts: PathBuf,
        store: Arc<Store>,
    }

    fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let transcripts = dir.path().join("projects");
        std::fs::create_dir_all(&transcripts).unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
        World {
            _dir: dir,
            transcripts,
            store,
        }
    }

    impl World {
        fn recorder(&self) -> Recorder {
            Recorder::new(self.store.clone())
                .with_transcripts_dir(self.transcripts.clone())
                .with_confirm_wait(Duration::from_millis(300))
        }

        fn append(&self, session: &str, lines: &[serde_json::Value]) {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.transcripts.join(format!("{session}.jsonl")))
                .unwrap();
            for l in lines {
                writeln!(f, "{l}").unwrap();
            }
        }

        /// Writes each turn of session "s" to its transcript and feeds the recorder its
        /// prompt and stop hooks, in order.
        fn record_turns(&self, r: &mut Recorder, turns: &[(&str, Option<&str>)]) {
            for &(n, parent) in turns {
                self.append("s", &turn(n, parent, "s"));
                r.handle(prompt("s", n)).unwrap();
                r.handle(stop("s", n)).unwrap();
            }
        }
    }

    /// A prompt line and its reply line.
    fn turn(n: &str, parent: Option<&str>, session: &str) -> [serde_json::Value; 2] {
        [
            json!({"type": "user", "uuid": format!("p{n}"), "parentUuid": parent,
                "sessionId": session, "promptId": format!("id{n}"),
                "message": {"role": "user", "content": format!("prompt {n}")}}),
            json!({"type": "assistant", "uuid": format!("a{n}"), "parentUuid": format!("p{n}"),
                "sessionId": session, "message": {"id": format!("m{n}"), "role": "assistant",
                "model": "m", "content": [{"type": "text", "text": format!("reply {n}")}],
                "usage": {"input_tokens": 10, "output_tokens": 2}}}),
        ]
    }

    fn prompt(session: &str, n: &str) -> HookEvent {
        HookEvent::PromptSubmitted {
            session_id: session.into(),
            transcript_path: Some("/etc/shadow".into()),
            prompt: format!("prompt {n}"),
            prompt_id: Some(format!("id{n}")),
        }
    }

    fn stop(session: &str, n: &str) -> HookEvent {
        HookEvent::Stopped {
            session_id: session.into(),
            transcript_path: None,
            last_message: Some(format!("reply {n}")),
        }
    }

    #[test]
    fn a_rewound_conversation_forks_after_the_turn_it_continues() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None), ("2", Some("a1")), ("3", Some("a2"))]);
        // Claude's rewind menu: the next prompt continues from the end of turn 1.
        w.record_turns(&mut r, &[("4", Some("a1"))]);
        let turns = w.store.all_turns().unwrap();
        assert_eq!(turns.len(), 4);
        assert_eq!(turns[3].parent, Some(turns[0].id));
        assert_eq!(turns[3].reply, "reply 4");
        assert_eq!(turns[3].prompt_uuid.as_deref(), Some("p4"));
        let fork = w.store.branch(&turns[3].branch).unwrap().unwrap();
        assert_eq!(fork.name, "main-r1");
        assert_eq!(fork.fork_turn, Some(turns[0].id));
        assert_eq!(fork.parent_branch.as_deref(), Some("main"));
        assert_eq!(
            w.store.branch("main").unwrap().unwrap().head,
            Some(turns[2].id)
        );
    }

    #[test]
    fn a_prompt_the_transcript_never_shows_is_dropped() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None)]);
        r.handle(prompt("s", "forged")).unwrap();
        r.handle(stop("s", "forged")).unwrap();
        assert_eq!(r.unconfirmed, 1);
        let turns = w.store.all_turns().unwrap();
        assert_eq!(turns.len(), 1, "{turns:#?}");
    }

    #[test]
    fn a_prompt_whose_hook_was_lost_is_recorded_at_the_stop() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None)]);
        // No UserPromptSubmit for turn 2: only its Stop arrives.
        let mut lines = turn("2", Some("a1"), "s");
        lines[0]["timestamp"] = json!("2026-01-02T03:04:05.678Z");
        w.append("s", &lines);
        r.handle(stop("s", "2")).unwrap();
        let turns = w.store.all_turns().unwrap();
        assert_eq!(turns.len(), 2, "{turns:#?}");
        assert_eq!(turns[1].prompt, "prompt 2");
        // It started when Claude stamped the prompt, not when ccx found it.
        assert_eq!(turns[1].started_at, "2026-01-02T03:04:05.678Z");
        assert_eq!(turns[1].reply, "reply 2");
        assert_eq!(turns[1].parent, Some(turns[0].id));
        assert!(!turns[1].is_running());
    }

    #[test]
    fn resuming_a_stored_branch_makes_it_the_current_one_before_its_next_turn() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None)]);
        // A second conversation, on a branch of its own.
        w.append("t", &turn("2", None, "t"));
        r.handle(prompt("t", "2")).unwrap();
        r.handle(stop("t", "2")).unwrap();
        let current = || w.store.get_meta(&MetaKey::CurrentBranch).unwrap();
        let second = w.store.all_turns().unwrap()[1].branch.clone();
        assert_ne!(second, "main");
        assert_eq!(current(), Some(json!(second)));
        // `:checkout main` resumes main's session: main is current before anything is typed.
        r.handle(HookEvent::SessionStart {
            session_id: "s".into(),
            transcript_path: None,
            source: Some("resume".into()),
        })
        .unwrap();
        assert_eq!(current(), Some(json!("main")));
    }

    fn compacted_event(session: &str) -> HookEvent {
        HookEvent::SessionStart {
            session_id: session.into(),
            transcript_path: None,
            source: Some("compact".into()),
        }
    }

    /// A compaction boundary continuing `logical`, keeping the messages up to `tail`.
    fn boundary(
        uuid: &str,
        logical: Option<&str>,
        tail: &str,
        meta: serde_json::Value,
    ) -> [serde_json::Value; 2] {
        let mut metadata = json!({"postTokens": 50, "preservedSegment": {"tailUuid": tail}});
        for (k, v) in meta.as_object().unwrap() {
            metadata[k] = v.clone();
        }
        [
            json!({"type": "system", "subtype": "compact_boundary", "uuid": uuid,
                "parentUuid": null, "logicalParentUuid": logical, "sessionId": "s",
                "compactMetadata": metadata}),
            json!({"type": "user", "uuid": format!("{uuid}-summary"), "parentUuid": uuid,
                "sessionId": "s", "isCompactSummary": true,
                "message": {"role": "user", "content": "This session is being continued"}}),
        ]
    }

    #[test]
    fn an_auto_compaction_before_the_reply_follows_its_turn_which_keeps_the_reply() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None)]);
        // The prompt is written, then Claude compacts before answering it.
        let [p2, mut a2] = turn("2", Some("a1"), "s");
        w.append("s", &[p2]);
        r.handle(prompt("s", "2")).unwrap();
        w.append(
            "s",
            &boundary("b", Some("p2"), "p2", json!({"trigger": "auto"})),
        );
        r.handle(compacted_event("s")).unwrap();
        a2["parentUuid"] = json!("b-summary");
        w.append("s", &[a2]);
        r.handle(stop("s", "2")).unwrap();
        w.record_turns(&mut r, &[("3", Some("a2"))]);
        let turns = w.store.all_turns().unwrap();
        assert_eq!(turns.len(), 4, "{turns:#?}");
        assert_eq!(
            (turns[1].reply.as_str(), turns[1].interrupted),
            ("reply 2", false)
        );
        assert_eq!(turns[2].kind, TurnKind::Compact);
        assert_eq!(turns[2].prompt, "/compact");
        assert_eq!(turns[2].prompt_uuid.as_deref(), Some("b"));
        assert_eq!(turns[2].parent, Some(turns[1].id));
        assert_eq!(turns[2].context_tokens, 50, "what the compaction left");
        assert!(!turns[2].is_running());
        assert_eq!(turns[3].parent, Some(turns[2].id));
        assert!(turns.iter().all(|t| t.branch == "main"));
    }

    #[test]
    fn summarize_up_to_here_follows_the_messages_it_keeps() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None), ("2", Some("a1")), ("3", Some("a2"))]);
        // "Summarize up to here" on prompt 2: turn 1 is summarised, 2 and 3 are kept.
        let meta = json!({"trigger": "manual", "messagesSummarized": 2});
        w.append("s", &boundary("b", Some("a1"), "a3", meta));
        r.handle(compacted_event("s")).unwrap();
        w.append("s", &turn("4", Some("b-summary"), "s"));
        r.handle(prompt("s", "4")).unwrap();
        r.handle(stop("s", "4")).unwrap();
        let turns = w.store.all_turns().unwrap();
        assert_eq!(turns.len(), 5, "{turns:#?}");
        assert_eq!(turns[3].kind, TurnKind::Summary);
        assert_eq!(turns[3].prompt, SUMMARY_PROMPT);
        assert_eq!(turns[3].parent, Some(turns[2].id));
        assert_eq!(turns[4].parent, Some(turns[3].id));
        assert!(turns.iter().all(|t| t.branch == "main"), "{turns:#?}");
    }

    #[test]
    fn summarize_from_here_after_a_compaction_is_a_summary_forked_after_the_turn_it_keeps() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None), ("2", Some("a1"))]);
        w.append(
            "s",
            &boundary("b1", Some("a2"), "a2", json!({"trigger": "manual"})),
        );
        r.handle(compacted_event("s")).unwrap();
        w.record_turns(&mut r, &[("4", Some("b1-summary")), ("5", Some("a4"))]);
        // "Summarize from here" on prompt 5: Claude writes no `logicalParentUuid` after an
        // earlier compaction; what it keeps ends with turn 4.
        let meta = json!({"trigger": "manual", "messagesSummarized": 2});
        w.append("s", &boundary("b2", None, "a4", meta));
        r.handle(compacted_event("s")).unwrap();
        let turns = w.store.all_turns().unwrap();
        assert_eq!(turns.len(), 6, "{turns:#?}");
        assert_eq!(turns[2].kind, TurnKind::Compact);
        let summary = &turns[5];
        assert_eq!(summary.kind, TurnKind::Summary);
        assert_eq!(summary.parent, Some(turns[3].id));
        assert_ne!(summary.branch, "main");
        let main = w.store.branch("main").unwrap().unwrap();
        assert_eq!(main.head, Some(turns[4].id));
    }

    #[test]
    fn a_native_fork_is_a_subagent_turn_on_a_branch_after_the_turn_it_started_from() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None), ("2", Some("a1"))]);
        let session_dir = w.transcripts.join("s");
        crate::forks::write_test_fork(
            &session_dir,
            "check-the-tests",
            "check the tests",
            "all green",
        );
        let subagent_stopped = || HookEvent::SubagentStopped {
            session_id: "s".into(),
        };
        r.handle(subagent_stopped()).unwrap();
        r.handle(subagent_stopped()).unwrap();
        w.record_turns(&mut r, &[("3", Some("a2"))]);
        let turns = w.store.all_turns().unwrap();
        assert_eq!(turns.len(), 4, "{turns:#?}");
        let fork = &turns[2];
        assert_eq!(fork.kind, TurnKind::Subagent);
        assert_eq!(
            (fork.prompt.as_str(), fork.reply.as_str()),
            ("check the tests", "all green")
        );
        assert_eq!(fork.parent, Some(turns[1].id));
        assert_eq!(fork.branch, "check-the-tests");
        let branch = w.store.branch("check-the-tests").unwrap().unwrap();
        assert_eq!(branch.fork_turn, Some(turns[1].id));
        assert_eq!(branch.parent_branch.as_deref(), Some("main"));
        // The session goes on on its own branch.
        assert_eq!(turns[3].branch, "main");
        assert_eq!(turns[3].parent, Some(turns[1].id));
    }

    #[test]
    fn the_focus_is_read_from_the_compact_line_after_the_boundary() {
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/transcript-compact.jsonl");
        let lines = transcript::read_transcript(&fixture).unwrap();
        let at = lines
            .iter()
            .position(transcript::Line::is_compact_boundary)
            .unwrap();
        assert_eq!(
            compact_focus_after(&lines[at + 1..]).as_deref(),
            Some("keep the plan")
        );
        assert_eq!(compact_focus_after(&lines[..at]), None);
    }

    /// The lines `/compact FOCUS` writes after its boundary: the caveat, the command, its output.
    fn compact_command(uuid: &str, parent: &str, focus: &str) -> [serde_json::Value; 3] {
        let text = format!(
            "<command-name>/compact</command-name>\n<command-message>compact</command-message>\n\
             <command-args>{focus}</command-args>"
        );
        [
            json!({"type": "user", "uuid": format!("{uuid}-caveat"), "parentUuid": parent,
                "sessionId": "s", "isMeta": true,
                "message": {"role": "user", "content": "<local-command-caveat>x</local-command-caveat>"}}),
            json!({"type": "user", "uuid": uuid, "parentUuid": format!("{uuid}-caveat"),
                "sessionId": "s", "message": {"role": "user", "content": text}}),
            json!({"type": "user", "uuid": format!("{uuid}-out"), "parentUuid": uuid,
                "sessionId": "s", "message": {"role": "user",
                "content": "<local-command-stdout>Compacted</local-command-stdout>"}}),
        ]
    }

    #[test]
    fn a_second_compaction_takes_its_own_focus_even_when_its_lines_come_after_the_hook() {
        let w = world();
        let mut r = w.recorder();
        w.record_turns(&mut r, &[("1", None)]);
        let manual = || json!({"trigger": "manual"});
        w.append("s", &boundary("b1", Some("a1"), "a1", manual()));
        w.append("s", &compact_command("c1", "b1-summary", "keep the plan"));
        r.handle(compacted_event("s")).unwrap();
        w.record_turns(&mut r, &[("2", Some("c1-out"))]);
        // Claude starts the compacted session before it writes the second boundary and command.
        let writer = {
            let path = w.transcripts.join("s.jsonl");
            let mut lines: Vec<serde_json::Value> = Vec::new();
            lines.extend(boundary("b2", Some("a2"), "a2", manual()));
            lines.extend(compact_command("c2", "b2-summary", "drop the plan"));
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
                for l in lines {
                    writeln!(f, "{l}").unwrap();
                }
            })
        };
        r.handle(compacted_event("s")).unwrap();
        writer.join().unwrap();
        let turns = w.store.all_turns().unwrap();
        let compacts: Vec<(&str, Option<&str>)> = turns
            .iter()
            .filter(|t| t.kind == TurnKind::Compact)
            .map(|t| (t.prompt.as_str(), t.prompt_uuid.as_deref()))
            .collect();
        assert_eq!(
            compacts,
            [
                ("/compact keep the plan", Some("b1")),
                ("/compact drop the plan", Some("b2"))
            ]
        );
        // Each compaction turn holds its own lines: boundary, summary, command.
        let uuids = |t: &Turn| -> Vec<String> {
            w.store
                .entries(t.id)
                .unwrap()
                .iter()
                .filter_map(|e| e["uuid"].as_str().map(str::to_owned))
                .collect()
        };
        let first = turns.iter().find(|t| t.kind == TurnKind::Compact).unwrap();
        assert_eq!(
            uuids(first),
            ["b1", "b1-summary", "c1-caveat", "c1", "c1-out"]
        );
        let after = turns.iter().find(|t| t.prompt == "prompt 2").unwrap();
        assert_eq!(uuids(after), ["p2", "a2"]);
    }
}
