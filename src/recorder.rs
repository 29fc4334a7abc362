//! The recorder: turns hook events into turns in the store. It is the engine between the hook
//! bridge and the store — no terminal, no sockets — so it can be tested with plain events.
//!
//! A turn begins on `UserPromptSubmit` (stored at once, so a prompt is never lost) and ends on
//! `Stop`, when the exact usage, reply, files and transcript entries are read from Claude Code's
//! transcript. A turn that gets no `Stop` (the person interrupted it) is finished as
//! `interrupted` when the next prompt arrives or the session ends.

use crate::hooks::wire::HookEvent;
use crate::model::{now_rfc3339, Branch, TurnEnd, TurnKind, TurnStart};
use crate::store::Store;
use crate::{tokens, transcript};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long to wait for the transcript to hold the reply a `Stop` hook announced.
const TRANSCRIPT_SETTLE: Duration = Duration::from_secs(3);

/// Names tried for a new conversation's branch: `main`, then `session-2`, `session-3`, ...
const MAX_BRANCH_NAME_TRIES: u32 = 10_000;

/// What the recorder knows of one Claude session.
#[derive(Debug, Default)]
struct SessionState {
    /// The branch to create for it when it has none (chosen by whoever started the session).
    planned_branch: Option<String>,
    transcript_path: Option<PathBuf>,
    pending: Option<Pending>,
    /// The uuid of the last transcript line stored, where the next turn's lines begin.
    last_uuid: Option<String>,
}

#[derive(Debug)]
struct Pending {
    id: u64,
    prompt: String,
}

/// A hint for the next prompt of a session: what kind of turn it is and what the person typed
/// (meta-commands rewrite prompts before they reach Claude).
#[derive(Debug, Clone)]
pub struct NextPrompt {
    pub kind: TurnKind,
    pub input: Option<String>,
}

/// What the running session looks like now, shared with the editor and the status line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionView {
    pub session_id: Option<String>,
    pub branch: Option<String>,
    /// The latest turn of the session.
    pub head: Option<u64>,
    /// Context size after the latest finished turn.
    pub context_tokens: u64,
    pub model: Option<String>,
    /// The rot zone threshold, for the status line.
    pub rot_zone_tokens: u64,
    /// Subagent jobs worth showing (running, or finished and not yet pulled).
    pub jobs: Option<String>,
    /// A problem the person must know about (e.g. the turn log could not be opened).
    pub problem: Option<String>,
}

/// Messages to the recorder thread, which owns the recorder.
#[derive(Debug, Clone)]
pub enum RecorderMsg {
    Hook(HookEvent),
    /// A session ccx starts or resumes: record it on `branch`.
    PlanBranch {
        session_id: String,
        branch: String,
        history_ends_at: Option<String>,
    },
    /// The next prompt of the session is of another kind than a typed prompt.
    ExpectPrompt {
        session_id: String,
        next: NextPrompt,
    },
    Shutdown,
}

pub struct Recorder {
    store: Arc<Store>,
    sessions: HashMap<String, SessionState>,
    next_prompt: HashMap<String, NextPrompt>,
    view: Arc<std::sync::Mutex<SessionView>>,
    /// Where the status line reads the view (written after every change), if anywhere.
    status_file: Option<PathBuf>,
    /// Takes a snapshot of the working tree when a turn ends (in a git repository).
    snapshots: Option<(crate::snapshot::Snapshotter, String)>,
}

impl Recorder {
    pub fn new(store: Arc<Store>) -> Recorder {
        Recorder {
            store,
            sessions: HashMap::new(),
            next_prompt: HashMap::new(),
            view: Default::default(),
            status_file: None,
            snapshots: None,
        }
    }

    /// Snapshots the working tree of `project` (if it is in a git repository) at every turn's
    /// end, under refs named after the project so two projects in one repository never clash.
    pub fn with_snapshots(mut self, project: &std::path::Path) -> Recorder {
        self.snapshots = crate::snapshot::Snapshotter::find(project)
            .map(|s| (s, crate::paths::path_key(project)));
        self
    }

    /// Shares the session's state through `view`, and writes it to `status_file` on changes.
    pub fn with_view(
        mut self,
        view: Arc<std::sync::Mutex<SessionView>>,
        status_file: Option<PathBuf>,
    ) -> Recorder {
        self.view = view;
        self.status_file = status_file;
        self
    }

    fn update_view(&self, change: impl FnOnce(&mut SessionView)) {
        let snapshot = {
            let mut view = self.view.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut view);
            view.clone()
        };
        if let Some(path) = &self.status_file {
            crate::status::write_view(path, &snapshot);
        }
    }

    /// Records the session's turns on `branch` (created on the first turn if new).
    /// `history_ends_at`: the uuid of the last transcript line the session starts with (a
    /// rebuilt or resumed conversation), so its next turn's entries begin after it.
    pub fn plan_branch(&mut self, session_id: &str, branch: &str, history_ends_at: Option<String>) {
        let state = self.sessions.entry(session_id.to_string()).or_default();
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
    pub fn expect_prompt(&mut self, session_id: &str, next: NextPrompt) {
        self.next_prompt.insert(session_id.to_string(), next);
    }

    /// Acts on one hook event.
    pub fn handle(&mut self, event: HookEvent) -> Result<()> {
        match event {
            HookEvent::SessionStart {
                session_id,
                transcript_path,
                source,
            } => {
                let state = self.sessions.entry(session_id.clone()).or_default();
                if let Some(path) = transcript_path {
                    state.transcript_path = Some(PathBuf::from(path));
                }
                if source.as_deref() == Some("compact") {
                    // The compaction is done: its turn ends with the context it left.
                    self.finish_pending(&session_id, None, false)?;
                }
                let known = self.store.branch_for_session(&session_id)?;
                let head = known.as_ref().and_then(|b| b.head);
                // A session ccx recorded before: its next turn begins after the stored lines.
                if let (Some(id), None) = (
                    head,
                    self.sessions
                        .get(&session_id)
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
                self.update_view(|v| {
                    v.session_id = Some(session_id);
                    v.branch = known.map(|b| b.name);
                    v.head = head;
                    v.context_tokens = context;
                });
                Ok(())
            }
            HookEvent::PromptSubmitted {
                session_id,
                transcript_path,
                prompt,
            } => self.prompt_submitted(&session_id, transcript_path, prompt),
            HookEvent::PreCompact {
                session_id,
                instructions,
                ..
            } => self.compacting(&session_id, instructions.unwrap_or_default()),
            HookEvent::Stopped {
                session_id,
                transcript_path,
                last_message,
            } => self.stopped(&session_id, transcript_path, last_message),
            _ => Ok(()),
        }
    }

    /// `/compact` began: record it as a turn of kind `compact` (its context after is read when
    /// the compacted session starts).
    fn compacting(&mut self, session_id: &str, instructions: String) -> Result<()> {
        let typed_compact = self
            .sessions
            .get(session_id)
            .and_then(|s| s.pending.as_ref())
            .is_some_and(|p| p.prompt.trim_start().starts_with("/compact"));
        if typed_compact {
            // Claude announced `/compact` as a prompt already: that turn is the compaction.
            return Ok(());
        }
        self.finish_pending(session_id, None, true)?;
        let prompt = format!("/compact {instructions}").trim_end().to_string();
        self.expect_prompt(
            session_id,
            NextPrompt {
                kind: TurnKind::Compact,
                input: self
                    .next_prompt
                    .get(session_id)
                    .and_then(|n| n.input.clone()),
            },
        );
        self.prompt_submitted(session_id, None, prompt)
    }

    /// Ends every running turn as interrupted (the session is over).
    pub fn finish_all(&mut self) -> Result<()> {
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in ids {
            self.finish_pending(&id, None, true)?;
        }
        Ok(())
    }

    fn prompt_submitted(
        &mut self,
        session_id: &str,
        path: Option<String>,
        prompt: String,
    ) -> Result<()> {
        self.finish_pending(session_id, None, true)?;
        let branch = self.branch_of(session_id)?;
        let state = self.sessions.entry(session_id.to_string()).or_default();
        if let Some(path) = path {
            state.transcript_path = Some(PathBuf::from(path));
        }
        let mut hint = self.next_prompt.get(session_id).cloned();
        if hint.is_none() && prompt.trim_start().starts_with("/compact") {
            hint = Some(NextPrompt {
                kind: TurnKind::Compact,
                input: None,
            });
        }
        let turn = self.store.begin_turn(TurnStart {
            branch: branch.clone(),
            kind: hint.as_ref().map(|h| h.kind).unwrap_or_default(),
            prompt: prompt.clone(),
            input: hint.and_then(|h| h.input),
            session_id: session_id.to_string(),
            started_at: now_rfc3339(),
        })?;
        // Only now that the turn is stored (a failed event is handled again later).
        self.next_prompt.remove(session_id);
        self.sessions
            .entry(session_id.to_string())
            .or_default()
            .pending = Some(Pending {
            id: turn.id,
            prompt,
        });
        if let Err(err) = self
            .store
            .set_meta("current_branch", serde_json::Value::String(branch.clone()))
        {
            crate::diag::log(&format!("cannot remember the current branch: {err:#}"));
        }
        self.update_view(|v| {
            v.session_id = Some(session_id.to_string());
            v.branch = Some(branch);
            v.head = Some(turn.id);
        });
        Ok(())
    }

    fn stopped(
        &mut self,
        session_id: &str,
        path: Option<String>,
        last_message: Option<String>,
    ) -> Result<()> {
        if let Some(path) = path {
            self.sessions
                .entry(session_id.to_string())
                .or_default()
                .transcript_path = Some(PathBuf::from(path));
        }
        self.finish_pending(session_id, last_message, false)
    }

    /// Finishes the session's running turn, if any, from its transcript.
    fn finish_pending(
        &mut self,
        session_id: &str,
        announced: Option<String>,
        interrupted: bool,
    ) -> Result<()> {
        let Some(state) = self.sessions.get_mut(session_id) else {
            return Ok(());
        };
        let Some(pending) = state.pending.take() else {
            return Ok(());
        };
        let (entries, facts) = read_turn(
            state.transcript_path.as_ref(),
            state.last_uuid.as_deref(),
            announced.as_deref(),
        );
        let last_uuid_before = state.last_uuid.clone();
        if facts.last_uuid.is_some() {
            state.last_uuid = facts.last_uuid.clone();
        }
        let reply = if facts.reply.is_empty() {
            announced.unwrap_or_default()
        } else {
            facts.reply
        };
        let est_tokens = tokens::estimate_tokens(&pending.prompt) + tokens::estimate_tokens(&reply);
        let model = facts.model.clone();
        let context_tokens = facts.context_tokens;
        let mut end = TurnEnd {
            reply,
            ended_at: now_rfc3339(),
            context_tokens,
            output_tokens: facts.output_tokens,
            est_tokens,
            interrupted,
            files: facts.files,
            snapshot: None,
            entries,
        };
        // Durable first; the snapshot (git, tens of milliseconds) is added after.
        let mut turn = match self.store.finish_turn(pending.id, end.clone()) {
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
        if turn.kind == TurnKind::Summary && !interrupted && !turn.reply.is_empty() {
            let name = format!("summary-{}", turn.id);
            crate::briefs::save(&self.store, &name, &turn.reply, &turn.branch, Some(turn.id))?;
        }
        if let Some((snapper, project_key)) = &self.snapshots {
            let message = format!("ccx: turn {} of {}", turn.id, turn.branch);
            match snapper.snapshot(&format!("{project_key}/turn-{}", turn.id), &message) {
                Ok(commit) => {
                    end.snapshot = Some(commit);
                    turn = self.store.finish_turn(pending.id, end)?;
                }
                Err(err) => {
                    crate::diag::log(&format!("no code snapshot for turn #{}: {err:#}", turn.id))
                }
            }
        }
        self.update_view(|v| {
            if v.head == Some(turn.id) && (context_tokens > 0 || !interrupted) {
                v.context_tokens = context_tokens;
            }
            if model.is_some() {
                v.model = model;
            }
        });
        Ok(())
    }

    /// The branch a session records into, creating it on its first turn.
    /// Asked of the store every time (not remembered): `:rename` may have renamed it meanwhile.
    fn branch_of(&mut self, session_id: &str) -> Result<String> {
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
    fn create_branch(&self, session_id: &str, planned: Option<String>) -> Result<String> {
        let candidates = planned
            .into_iter()
            .chain(std::iter::once("main".to_string()))
            .chain((2..MAX_BRANCH_NAME_TRIES).map(|n| format!("session-{n}")));
        for name in candidates {
            if self.store.branch(&name)?.is_some() {
                continue;
            }
            let created = self.store.create_branch(Branch {
                name: name.clone(),
                session_id: session_id.to_string(),
                parent_branch: None,
                fork_turn: None,
                head: None,
                created_at: now_rfc3339(),
            });
            // Another process may have taken the name between the check and the create.
            if created.is_ok() {
                return Ok(name);
            }
        }
        anyhow::bail!("no free branch name for session {session_id}")
    }
}

/// The uuid of the last line that has one.
pub fn last_uuid_of(entries: &[serde_json::Value]) -> Option<String> {
    entries
        .iter()
        .rev()
        .find_map(|e| e.get("uuid").and_then(|u| u.as_str()).map(str::to_string))
}

/// Reads the turn that ends the transcript, waiting briefly for the announced reply to land.
fn read_turn(
    path: Option<&PathBuf>,
    after_uuid: Option<&str>,
    announced: Option<&str>,
) -> (Vec<serde_json::Value>, transcript::TurnFacts) {
    let Some(path) = path else {
        return (Vec::new(), Default::default());
    };
    let deadline = Instant::now() + TRANSCRIPT_SETTLE;
    loop {
        let read = transcript::read_transcript(path)
            .with_context(|| format!("cannot read transcript {}", path.display()));
        let result = match read {
            Ok(lines) => transcript::turn_since(&lines, after_uuid),
            Err(e) => {
                crate::diag::log(&format!("{e:#}"));
                (Vec::new(), Default::default())
            }
        };
        let settled = match announced {
            Some(text) => result.1.reply.trim() == text.trim(),
            None => true,
        };
        if settled || Instant::now() >= deadline {
            return result;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}
