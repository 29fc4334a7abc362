//! The session controller: the steps that change which conversation Claude is in, which the
//! meta-commands (`meta::commands`) combine into moves — rebuild a conversation from ccx's own
//! store (so a branch still works after Claude Code deleted its transcript), restart claude in
//! the same PTY on it, tell the recorder where each new session belongs, wait for Claude to be
//! idle, restore files — and sending prompts on the person's behalf. No terminal I/O here.

use crate::claude::command::{ClaudeLauncher, SessionArg};
use crate::ids::{SessionId, TurnId};
use crate::model::{Turn, TurnKind};
use crate::moves::{CodeChange, Place};
use crate::proxy::ProxyHandle;
use crate::recorder::{last_uuid_of, NextPrompt, RecorderMsg};
use crate::screen::ScreenModel;
use crate::store::Store;
use crate::store_slot::StoreSlot;
use crate::transcript;
use crate::view::{SessionView, ViewHandle};
use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a new claude may take to show its prompt.
const PROMPT_WAIT: Duration = Duration::from_secs(60);
/// How long the restart itself (ending the old claude, starting the new) may take.
const RESTART_WAIT: Duration = Duration::from_secs(10);
/// Pause between pasting a prompt and pressing Enter (Claude reads one write as one paste).
const SUBMIT_PAUSE: Duration = Duration::from_millis(300);
/// Upper bound on the turns walked back through parent links.
const MAX_CHAIN: usize = 1_000_000;
const STORE_WAIT: Duration = Duration::from_secs(5);
/// How long a move waits for a turn that is still running to be recorded as finished.
const FINISH_GRACE: Duration = Duration::from_secs(5);
/// How long `:merge` and `:btw` wait for the headless fork's answer.
const FORK_ANSWER_WAIT: Duration = Duration::from_secs(5 * 60);

pub struct Controller {
    pub launcher: ClaudeLauncher,
    pub templates: crate::templates::Templates,
    pub jobs: crate::jobs::JobManager,
    pub home: Option<PathBuf>,
    pub store: StoreSlot,
    pub recorder: Sender<RecorderMsg>,
    pub handle: ProxyHandle,
    pub screen: ScreenModel,
    pub view: ViewHandle,
}

impl Controller {
    pub fn store(&self) -> Result<Arc<Store>> {
        self.store
            .get(STORE_WAIT)
            .map_err(|e| anyhow::anyhow!("the turn log is not available: {e}"))
    }

    fn view(&self) -> SessionView {
        self.view.get()
    }

    /// The branch the running session records into.
    pub fn current_branch(&self, store: &Store) -> String {
        self.view().branch.unwrap_or_else(|| {
            crate::query::current_branch(store).unwrap_or_else(|_| "main".into())
        })
    }

    /// Refuses while Claude is still working on a turn of this session. A turn whose reply is
    /// on the screen is recorded as finished a moment later (Claude Code fires its `Stop` hook
    /// after drawing the reply, and the transcript is read then), so a turn still running is
    /// given [`FINISH_GRACE`] to finish first.
    pub fn ensure_idle(&self, store: &Store) -> Result<()> {
        let deadline = Instant::now() + FINISH_GRACE;
        // A prompt whose hook message the recorder has not handled yet is not in the log yet
        // (nor is its turn's end): wait for it, so the move starts after it.
        while self.view.hooks_on_their_way() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(id) = self.view().head {
            while store.turn(id)?.is_some_and(|t| t.is_running()) {
                if Instant::now() >= deadline {
                    bail!("Claude is still working on turn #{id}; wait for it to finish (or press Esc in Claude to stop it), then try again");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    fn transcript_file(&self, session_id: &str) -> Result<PathBuf> {
        let config = crate::claude::paths::config_dir_with(|key| match key {
            "HOME" => self.home.clone().map(OsString::from),
            _ => std::env::var_os(key),
        })
        .context("HOME is not set, so Claude's transcripts cannot be found")?;
        Ok(crate::claude::paths::transcript_path_in(
            &config,
            &self.launcher.cwd,
            session_id,
        ))
    }

    /// The conversation up to and including `turn`: its chain of turns from the first.
    fn chain(store: &Store, turn: &Turn) -> Result<Vec<Turn>> {
        let mut chain = vec![turn.clone()];
        let mut parent = turn.parent;
        while let Some(id) = parent {
            if chain.len() >= MAX_CHAIN {
                bail!("the turn log's parent links do not end (at #{id})");
            }
            let t = store
                .turn(id)?
                .with_context(|| format!("turn #{id} is missing from the log"))?;
            parent = t.parent;
            chain.push(t);
        }
        chain.reverse();
        Ok(chain)
    }

    /// Writes the conversation up to `turn` as a new Claude session from ccx's store; returns
    /// the new session id and the uuid its history ends at.
    pub fn rebuild_session(
        &self,
        store: &Store,
        turn: &Turn,
    ) -> Result<(SessionId, Option<String>)> {
        let mut entries = Vec::new();
        for t in Self::chain(store, turn)? {
            entries.extend(store.entries(t.id)?);
        }
        if entries.is_empty() {
            bail!(
                "ccx has no transcript entries for turn #{} (it was recorded without them)",
                turn.id
            );
        }
        let session_id = SessionId::random();
        let path = self.transcript_file(session_id.as_str())?;
        transcript::write_transcript(&path, &entries, session_id.as_str())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok((session_id, last_uuid_of(&entries)))
    }

    /// Starts claude on `session` in place of the running one and waits for its prompt. If it
    /// refuses (exits before showing its prompt), the previous conversation is resumed and this
    /// fails.
    pub fn switch_to(&self, session: SessionArg) -> Result<()> {
        let fallback = self
            .view()
            .session_id
            .map(|id| self.launcher.command(&SessionArg::Resume(id)));
        let cmd = self.launcher.command(&session);
        let pid = self
            .handle
            .restart(cmd, fallback, RESTART_WAIT)
            .map_err(anyhow::Error::msg)?;
        let deadline = Instant::now() + PROMPT_WAIT;
        loop {
            if self.handle.child_pid() != pid {
                bail!("claude would not open that conversation (it exited at once); you are back where you were");
            }
            if self.screen.shows_empty_prompt() {
                // It opened the conversation: leaving it now (`/exit`) ends ccx, as always.
                self.handle.confirm_started(pid);
                // The view names this session now, not when its SessionStart hook gets recorded
                // (that may come after the prompt shows): a prompt ccx sends next, and the
                // place a move records, belong to it.
                let id = match session {
                    SessionArg::New(id) | SessionArg::Resume(id) => id,
                };
                self.view.update(|v| v.session_id = Some(id));
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "claude did not show its prompt within {}s",
                    PROMPT_WAIT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn plan(&self, session_id: &SessionId, branch: &str, history_ends_at: Option<String>) {
        let _ = self.recorder.send(RecorderMsg::PlanBranch {
            session_id: session_id.clone(),
            branch: branch.to_string(),
            history_ends_at,
        });
    }

    /// Sends `text` to Claude as a prompt (pasted, then Enter), recorded as `kind` with the
    /// person's `input` when a meta-command wrote the prompt.
    pub fn send_prompt(&self, text: &str, kind: TurnKind, input: Option<String>) {
        self.prompter().send(text, kind, input);
    }

    /// `:merge`: sends `text` as a merge turn; the recorder remembers `source` with it.
    pub fn send_merge(&self, text: &str, input: Option<String>, source: crate::merge::Source) {
        self.prompter().send_next(
            text,
            NextPrompt {
                kind: TurnKind::Merge,
                input,
                merged: Some(source),
            },
        );
    }

    /// `:merge`, `:btw`: asks a headless fork of the conversation up to `at` (written from the
    /// turn log as a session file, removed again afterwards); its answer.
    pub fn ask_fork(&self, store: &Store, at: Option<&Turn>, question: &str) -> Result<String> {
        let session = match at {
            Some(turn) => Some(self.rebuild_session(store, turn)?.0),
            None => None,
        };
        let answer = crate::headless::ask(
            &crate::headless::Claude {
                program: &self.launcher.claude,
                cwd: &self.launcher.cwd,
            },
            session.as_ref(),
            question,
            FORK_ANSWER_WAIT,
        );
        if let Some(path) = session.and_then(|s| self.transcript_file(s.as_str()).ok()) {
            let _ = std::fs::remove_file(path);
        }
        answer
    }

    fn prompter(&self) -> Prompter {
        Prompter {
            handle: self.handle.clone(),
            recorder: self.recorder.clone(),
            view: self.view.clone(),
        }
    }

    /// Sends `prompts` one turn at a time in the background (`:replay`), each after the turn
    /// before it was recorded as ended.
    pub fn start_replay(&self, prompts: Vec<String>) -> Result<()> {
        let prompter = self.prompter();
        let slot = self.store.clone();
        std::thread::Builder::new()
            .name("ccx-replay".into())
            .spawn(move || {
                if let Err(err) = replay_prompts(&prompter, &slot, &prompts) {
                    crate::diag::log(&format!("replay stopped: {err:#}"));
                }
            })?;
        Ok(())
    }

    /// Puts the files back as they stood when `turn` ended, through the effects journal: over
    /// the files the tool calls of the turns being left changed (on the current branch's
    /// conversation and not on `turn`'s, and the other way round). Snapshots first, so the
    /// restore can be undone. What to tell the person, and the change for the moves history.
    pub fn restore_code(&self, turn: &Turn) -> Result<(String, Option<CodeChange>)> {
        let store = self.store()?;
        let current = self.current_branch(&store);
        let here = match store.branch(&current)?.and_then(|b| b.head) {
            Some(id) => match store.turn(id)? {
                Some(head) => Self::chain(&store, &head)?,
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        let there = Self::chain(&store, turn)?;
        let ids = |chain: &[Turn]| chain.iter().map(|t| t.id).collect::<HashSet<TurnId>>();
        let (in_here, in_there) = (ids(&here), ids(&there));
        let rewinding = in_there.is_subset(&in_here);
        let mut undone: Vec<Turn> = here
            .into_iter()
            .filter(|t| !in_there.contains(&t.id))
            .chain(there.into_iter().filter(|t| !in_here.contains(&t.id)))
            .collect();
        undone.sort_by_key(|t| t.id);
        crate::effects::turns::restore_back_to(&self.launcher.cwd, turn, &undone, rewinding)
    }

    /// Where the conversation is now: the branch the session records into and its session.
    pub fn place(&self, store: &Store) -> Place {
        Place {
            branch: self.current_branch(store),
            session_id: self.view().session_id,
        }
    }

    /// When Claude's own transcript of `session_id` is still there: the uuid it ends at.
    pub fn transcript_end(&self, session_id: &SessionId) -> Option<Option<String>> {
        let path = self
            .transcript_file(session_id.as_str())
            .ok()
            .filter(|p| p.is_file())?;
        let lines = transcript::read_transcript(&path).unwrap_or_default();
        Some(lines.iter().rev().find_map(|l| l.uuid.clone()))
    }

    /// Branch `old` was renamed to `new`: the session follows when it records into `old`.
    pub fn branch_renamed(&self, old: &str, new: &str) {
        self.view.update(|view| {
            if view.branch.as_deref() == Some(old) {
                view.branch = Some(new.to_string());
            }
        });
    }
}

/// Sends prompts into the running session on the person's behalf; cheap to clone, so a
/// background task (a replay) can use it.
#[derive(Clone)]
pub struct Prompter {
    handle: ProxyHandle,
    recorder: Sender<RecorderMsg>,
    view: ViewHandle,
}

impl Prompter {
    pub fn send(&self, text: &str, kind: TurnKind, input: Option<String>) {
        self.send_next(
            text,
            NextPrompt {
                kind,
                input,
                merged: None,
            },
        );
    }

    /// Sends `text`, recorded as `next` says.
    pub fn send_next(&self, text: &str, next: NextPrompt) {
        if let Some(session_id) = self.view.get().session_id {
            if next.kind != TurnKind::Prompt || next.input.is_some() {
                let _ = self
                    .recorder
                    .send(RecorderMsg::ExpectPrompt { session_id, next });
            }
        }
        let mut paste = b"\x1b[200~".to_vec();
        paste.extend_from_slice(text.as_bytes());
        paste.extend_from_slice(b"\x1b[201~");
        self.handle.send_input(paste);
        std::thread::sleep(SUBMIT_PAUSE);
        self.handle.send_input(b"\r".to_vec());
    }

    fn head(&self) -> Option<TurnId> {
        self.view.get().head
    }
}

/// How long one replayed turn may take.
const REPLAY_TURN_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Sends each prompt and waits for its turn to be recorded as ended before the next.
fn replay_prompts(prompter: &Prompter, slot: &StoreSlot, prompts: &[String]) -> Result<()> {
    let store = slot.get(STORE_WAIT).map_err(anyhow::Error::msg)?;
    for (n, prompt) in prompts.iter().enumerate() {
        let before = prompter.head();
        prompter.send(prompt, TurnKind::Replay, None);
        let deadline = Instant::now() + REPLAY_TURN_LIMIT;
        loop {
            if let Some(head) = prompter.head().filter(|h| Some(*h) != before) {
                if store.turn(head)?.is_some_and(|t| !t.is_running()) {
                    break;
                }
            }
            if Instant::now() >= deadline {
                bail!(
                    "turn {} of the replay did not end within {} minutes",
                    n + 1,
                    REPLAY_TURN_LIMIT.as_secs() / 60
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}
