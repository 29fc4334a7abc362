//! The session controller: the moves that change which conversation Claude is in — fork a
//! branch at any turn, rewind, check a branch out, start fresh — and sending prompts on the
//! person's behalf. It rebuilds conversations from ccx's own store (so a branch still works
//! after Claude Code deleted its transcript), restarts claude in the same PTY on them, and
//! tells the recorder where each new session belongs. No terminal I/O here: the editor calls
//! it and shows what it returns.

use crate::branch_names::{self, NewBranch};
use crate::model::{now_rfc3339, Branch, Turn, TurnKind};
use crate::proxy::ProxyHandle;
use crate::recorder::{last_uuid_of, NextPrompt, RecorderMsg, SessionView};
use crate::screen::ScreenModel;
use crate::store::Store;
use crate::store_slot::StoreSlot;
use crate::{refs, transcript};
use anyhow::{bail, Context, Result};
use portable_pty::CommandBuilder;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
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

/// Everything needed to start claude again on another conversation.
pub struct ClaudeLauncher {
    pub claude: PathBuf,
    /// The person's arguments that still apply after a restart (no session flags, no prompt).
    pub args: Vec<OsString>,
    /// ccx's `--settings` (merged with the person's).
    pub settings: String,
    /// The environment additions (see `session::claude_env`).
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

/// Which conversation to start claude on.
pub enum SessionArg {
    New(String),
    Resume(String),
}

impl ClaudeLauncher {
    /// The claude to start now. Its path as found at launch, unresolved, while it is still
    /// there: an update replaces the file under the same path (npm puts a new file in place) or
    /// repoints a link (the native installer), so the new version starts. If the update moved
    /// claude elsewhere, it is looked for again (`$CCX_CLAUDE`, then `PATH`).
    pub fn claude_now(&self) -> PathBuf {
        if crate::session::is_executable(&self.claude) {
            return self.claude.clone();
        }
        crate::session::find_claude(None).unwrap_or_else(|_| self.claude.clone())
    }

    pub fn command(&self, session: &SessionArg) -> CommandBuilder {
        let mut cmd = CommandBuilder::new(self.claude_now());
        cmd.cwd(&self.cwd);
        for key in crate::session::hidden_vars() {
            cmd.env_remove(key);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd.arg("--settings");
        cmd.arg(&self.settings);
        match session {
            SessionArg::New(id) => cmd.args(["--session-id", id]),
            SessionArg::Resume(id) => cmd.args(["--resume", id]),
        }
        cmd.args(&self.args);
        cmd
    }
}

/// Claude flags that take a value (so the value is not mistaken for a prompt).
const VALUE_FLAGS: &[&str] = &[
    "--model",
    "--permission-mode",
    "--add-dir",
    "--allowedTools",
    "--allowed-tools",
    "--disallowedTools",
    "--disallowed-tools",
    "--append-system-prompt",
    "--system-prompt",
    "--mcp-config",
    "--agents",
    "--fallback-model",
    "--max-turns",
    "--effort",
    "--agent",
    "--betas",
    "--plugin-dir",
    "--setting-sources",
];
/// Flags that choose or start a conversation: not carried into a restart.
const SESSION_FLAGS_WITH_VALUE: &[&str] = &["-r", "--resume", "--session-id"];
const SESSION_FLAGS: &[&str] = &["-c", "--continue", "--fork-session", "-p", "--print"];

/// The person's claude arguments that still apply when ccx restarts claude on another
/// conversation: options, without the ones choosing a session and without a prompt.
pub fn restart_args(args: &[OsString]) -> Vec<OsString> {
    let mut kept = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        let name = text.split('=').next().unwrap_or("");
        if SESSION_FLAGS.contains(&name) {
            continue;
        }
        if SESSION_FLAGS_WITH_VALUE.contains(&name) {
            if !text.contains('=') {
                // `--resume` may stand alone (a picker) or take an id.
                if let Some(next) = iter.clone().next() {
                    if !next.to_string_lossy().starts_with('-') {
                        iter.next();
                    }
                }
            }
            continue;
        }
        if VALUE_FLAGS.contains(&name) {
            kept.push(arg.clone());
            if !text.contains('=') {
                if let Some(value) = iter.next() {
                    kept.push(value.clone());
                }
            }
            continue;
        }
        if text.starts_with('-') {
            kept.push(arg.clone());
        }
        // Anything else is a prompt: it was for the first conversation only.
    }
    kept
}

pub struct Controller {
    pub launcher: ClaudeLauncher,
    pub templates: crate::templates::Templates,
    pub jobs: crate::jobs::JobManager,
    pub home: Option<PathBuf>,
    pub store: StoreSlot,
    pub recorder: Sender<RecorderMsg>,
    pub handle: ProxyHandle,
    pub screen: ScreenModel,
    pub view: Arc<Mutex<SessionView>>,
}

impl Controller {
    fn store(&self) -> Result<Arc<Store>> {
        self.store
            .get(STORE_WAIT)
            .map_err(|e| anyhow::anyhow!("the turn log is not available: {e}"))
    }

    fn view(&self) -> SessionView {
        self.view.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The branch the running session records into.
    pub fn current_branch(&self, store: &Store) -> String {
        self.view().branch.unwrap_or_else(|| {
            crate::commands::current_branch(store).unwrap_or_else(|_| "main".into())
        })
    }

    /// Refuses while Claude is still working on a turn of this session. A turn whose reply is
    /// on the screen is recorded as finished a moment later (Claude Code fires its `Stop` hook
    /// after drawing the reply, and the transcript is read then), so a turn still running is
    /// given [`FINISH_GRACE`] to finish first.
    fn ensure_idle(&self, store: &Store) -> Result<()> {
        if let Some(id) = self.view().head {
            let deadline = Instant::now() + FINISH_GRACE;
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
        let home = self
            .home
            .as_ref()
            .context("HOME is not set, so Claude's transcripts cannot be found")?;
        Ok(
            match std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
                Some(dir) => transcript::transcript_path_in(
                    &PathBuf::from(dir),
                    &self.launcher.cwd,
                    session_id,
                ),
                None => transcript::transcript_path(home, &self.launcher.cwd, session_id),
            },
        )
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
    pub fn rebuild_session(&self, store: &Store, turn: &Turn) -> Result<(String, Option<String>)> {
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
        let session_id = uuid::Uuid::new_v4().to_string();
        let path = self.transcript_file(&session_id)?;
        transcript::write_transcript(&path, &entries, &session_id)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok((session_id, last_uuid_of(&entries)))
    }

    /// Starts claude on `session` in place of the running one and waits for its prompt. If it
    /// refuses (exits before showing its prompt), the previous conversation is resumed and this
    /// fails.
    fn switch_to(&self, session: SessionArg) -> Result<()> {
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

    fn plan(&self, session_id: &str, branch: &str, history_ends_at: Option<String>) {
        let _ = self.recorder.send(RecorderMsg::PlanBranch {
            session_id: session_id.to_string(),
            branch: branch.to_string(),
            history_ends_at,
        });
    }

    /// `:branch NAME [TURN]`: fork after TURN (default HEAD) and switch to the new branch.
    pub fn branch(&self, name: &str, turn: Option<&str>) -> Result<String> {
        let store = self.store()?;
        refs::validate_branch_name(name).map_err(anyhow::Error::msg)?;
        if store.branch(name)?.is_some() {
            bail!("a branch named '{name}' exists already");
        }
        self.ensure_idle(&store)?;
        let current = self.current_branch(&store);
        let at = self
            .resolve(&store, turn.unwrap_or("HEAD"), &current)
            .map_err(|err| match turn.map(refs::parse_turn_ref) {
                // `:branch bad name`: the second word was meant as part of the name.
                Some(Ok(refs::TurnRef::Branch { back: 0, .. })) => anyhow::anyhow!(
                    "{err:#}: a branch name is one word (`:branch {name}-{} [TURN]`)",
                    turn.unwrap_or_default()
                ),
                _ => err,
            })?;
        self.fork(&store, name, &at)?;
        Ok(format!(
            "on branch {name}, forked after #{} of {}; {current} is kept",
            at.id, at.branch
        ))
    }

    /// Forks after `at` into a new branch `name` and switches to it.
    fn fork(&self, store: &Store, name: &str, at: &Turn) -> Result<()> {
        let (session_id, history_ends_at) = self.rebuild_session(store, at)?;
        store.create_branch(Branch {
            name: name.to_string(),
            session_id: session_id.clone(),
            parent_branch: Some(at.branch.clone()),
            fork_turn: Some(at.id),
            head: Some(at.id),
            created_at: now_rfc3339(),
        })?;
        self.plan(&session_id, name, history_ends_at);
        self.switch_to(SessionArg::Resume(session_id))
    }

    fn resolve(&self, store: &Store, reference: &str, current: &str) -> Result<Turn> {
        let parsed = refs::parse_turn_ref(reference).map_err(|e| anyhow::anyhow!("{e}"))?;
        refs::resolve_turn_ref(store, &parsed, current)
    }

    /// `:rewind [TURN] [--code] [-- PROMPT]`: fork after TURN (default HEAD~1) as a new
    /// branch, optionally restore the files to TURN's snapshot, then send PROMPT.
    pub fn rewind(&self, turn: Option<&str>, code: bool, prompt: Option<&str>) -> Result<String> {
        let store = self.store()?;
        self.ensure_idle(&store)?;
        let current = self.current_branch(&store);
        let at = self.resolve(&store, turn.unwrap_or("HEAD~1"), &current)?;
        let restored = if code {
            Some(self.restore_code(&at)?)
        } else {
            None
        };
        let name = branch_names::free(
            &store,
            NewBranch::Rewind {
                from: &current,
                after: at.id,
            },
        )?;
        self.fork(&store, &name, &at)?;
        if let Some(text) = prompt {
            self.send_prompt(text, TurnKind::Prompt, None);
        }
        let mut message = format!(
            "rewound to #{} on new branch {name}; {current} is kept",
            at.id
        );
        if let Some(summary) = restored {
            message.push_str(&format!("; {summary}"));
        }
        Ok(message)
    }

    /// `:checkout BRANCH [--code]`: Claude resumes that branch's conversation.
    pub fn checkout(&self, name: &str, code: bool) -> Result<String> {
        let store = self.store()?;
        let current = self.current_branch(&store);
        let Some(mut branch) = store.branch(name)? else {
            return Err(crate::commands::no_branch(&store, name));
        };
        if name == current && !code {
            bail!("already on {name}");
        }
        self.ensure_idle(&store)?;
        let head = match branch.head {
            Some(id) => store.turn(id)?,
            None => None,
        };
        let restored = match (code, &head) {
            (true, Some(turn)) => Some(self.restore_code(turn)?),
            (true, None) => bail!("{name} has no turns, so no code snapshot to restore"),
            _ => None,
        };
        if name == current {
            return Ok(restored.unwrap_or_default());
        }
        // Resume Claude's own transcript when it is still there; else rebuild it from the log.
        let existing = self
            .transcript_file(&branch.session_id)
            .ok()
            .filter(|p| p.is_file());
        let (session_id, history_ends_at) = match (existing, &head) {
            (Some(path), _) => {
                let lines = transcript::read_transcript(&path).unwrap_or_default();
                let last = lines.iter().rev().find_map(|l| l.uuid.clone());
                (branch.session_id.clone(), last)
            }
            (None, Some(turn)) => {
                let (id, last) = self.rebuild_session(&store, turn)?;
                branch.session_id = id.clone();
                store.put_branch(branch.clone())?;
                (id, last)
            }
            (None, None) => (branch.session_id.clone(), None),
        };
        self.plan(&session_id, name, history_ends_at);
        let session = if head.is_some() {
            SessionArg::Resume(session_id)
        } else {
            SessionArg::New(session_id)
        };
        self.switch_to(session)?;
        let mut message = format!("on branch {name}");
        if let Some(summary) = restored {
            message.push_str(&format!("; {summary}"));
        }
        Ok(message)
    }

    /// `:clear` and `:brief`: a fresh session on a new branch, optionally seeded with a prompt.
    pub fn fresh_session(
        &self,
        new: NewBranch<'_>,
        first: Option<(String, TurnKind, Option<String>)>,
    ) -> Result<String> {
        let store = self.store()?;
        self.ensure_idle(&store)?;
        let name = branch_names::free(&store, new)?;
        let session_id = uuid::Uuid::new_v4().to_string();
        self.plan(&session_id, &name, None);
        self.switch_to(SessionArg::New(session_id))?;
        if let Some((text, kind, input)) = first {
            self.send_prompt(&text, kind, input);
        }
        Ok(format!("fresh session on new branch {name}"))
    }

    /// Sends `text` to Claude as a prompt (pasted, then Enter), recorded as `kind` with the
    /// person's `input` when a meta-command wrote the prompt.
    pub fn send_prompt(&self, text: &str, kind: TurnKind, input: Option<String>) {
        self.prompter().send(text, kind, input);
    }

    fn prompter(&self) -> Prompter {
        Prompter {
            handle: self.handle.clone(),
            recorder: self.recorder.clone(),
            view: self.view.clone(),
        }
    }

    /// `:replay BRANCH [FROM..TO]`: the recorded prompts of BRANCH's turns, one turn at a time,
    /// into a fresh session on a new branch. Runs in the background; returns once it started.
    pub fn replay(
        &self,
        branch: &str,
        range: Option<&(Option<String>, Option<String>)>,
    ) -> Result<String> {
        let store = self.store()?;
        if store.branch(branch)?.is_none() {
            bail!("no branch '{branch}'");
        }
        let lineage = store.lineage(branch)?;
        let position = |reference: &Option<String>, default: usize| -> Result<usize> {
            match reference {
                None => Ok(default),
                Some(r) => {
                    let turn = self.resolve(&store, r, branch)?;
                    lineage
                        .iter()
                        .position(|t| t.id == turn.id)
                        .with_context(|| format!("turn #{} is not on {branch}", turn.id))
                }
            }
        };
        let (from, to) = match range {
            Some((from, to)) => (
                position(from, 0)?,
                position(to, lineage.len().saturating_sub(1))?,
            ),
            None => (0, lineage.len().saturating_sub(1)),
        };
        let prompts: Vec<String> = lineage
            .get(from..=to.max(from))
            .unwrap_or_default()
            .iter()
            .filter(|t| !t.prompt.trim().is_empty() && t.kind != TurnKind::Compact)
            .map(|t| t.prompt.clone())
            .collect();
        if prompts.is_empty() {
            bail!("{branch} has no turns to replay in that range");
        }
        let message = self.fresh_session(NewBranch::Replay { of: branch }, None)?;
        let prompter = self.prompter();
        let slot = self.store.clone();
        let count = prompts.len();
        std::thread::Builder::new()
            .name("ccx-replay".into())
            .spawn(move || {
                if let Err(err) = replay_prompts(&prompter, &slot, &prompts) {
                    crate::diag::log(&format!("replay stopped: {err:#}"));
                }
            })?;
        Ok(format!("{message}: replaying {count} turns of {branch}"))
    }

    /// Restores the files to `turn`'s snapshot (after snapshotting the current state).
    fn restore_code(&self, turn: &Turn) -> Result<String> {
        let snapper = crate::snapshot::Snapshotter::find(&self.launcher.cwd)
            .context("--code needs a git repository: this directory is not in one")?;
        let commit = turn
            .snapshot
            .as_deref()
            .with_context(|| format!("turn #{} has no code snapshot", turn.id))?;
        let report = snapper.restore(commit)?;
        Ok(report.summary())
    }

    /// `:summarize-from-here [TURN]`: Claude writes a handoff of everything since TURN
    /// (default: the branch's start, or its last brief); the recorder saves it as a brief.
    pub fn summarize(&self, turn: Option<&str>, typed: &str) -> Result<String> {
        let store = self.store()?;
        self.ensure_idle(&store)?;
        let current = self.current_branch(&store);
        let since = match turn {
            Some(reference) => {
                let t = self.resolve(&store, reference, &current)?;
                format!(
                    "turn #{} (\"{}\")",
                    t.id,
                    crate::commands::render::prompt_label(&t, 60)
                )
            }
            None => {
                let lineage = store.lineage(&current).unwrap_or_default();
                match lineage.iter().rev().find(|t| t.kind == TurnKind::Brief) {
                    Some(t) => format!("the brief this session started from (turn #{})", t.id),
                    None => "the start of this conversation".to_string(),
                }
            }
        };
        self.send_prompt(
            &self.templates.summary_request(&since),
            TurnKind::Summary,
            Some(typed.to_string()),
        );
        Ok(format!(
            "asked Claude for a handoff since {since}; it is saved as a brief when done"
        ))
    }

    /// `:brief [NAME | -e]`: a fresh session on a new branch, seeded with a brief. `written`
    /// holds the text of a brief the person just wrote (`-e`).
    pub fn brief(
        &self,
        name: Option<&str>,
        written: Option<String>,
        typed: &str,
    ) -> Result<String> {
        let store = self.store()?;
        let current = self.current_branch(&store);
        let brief = match (written, name) {
            (Some(text), _) => crate::briefs::save(
                &store,
                &format!("written-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S")),
                &text,
                &current,
                None,
            )?,
            (None, Some(name)) => crate::briefs::load(&store, name)?.with_context(|| {
                format!("no brief named '{name}' (:summarize-from-here saves one)")
            })?,
            (None, None) => crate::briefs::latest(&store)?.context(
                "no brief yet: run :summarize-from-here first, or :brief -e to write one",
            )?,
        };
        // The turn's input names the brief even when the person took the latest.
        let typed = match (name, typed.split_whitespace().count()) {
            (None, 1) => format!("{} {}", typed.trim(), brief.name),
            _ => typed.to_string(),
        };
        let prompt = self.templates.brief_prompt(&brief.text, &current);
        let message = self.fresh_session(
            NewBranch::Brief,
            Some((prompt, TurnKind::Brief, Some(typed))),
        )?;
        Ok(format!("{message}, seeded with brief {}", brief.name))
    }

    /// `:compact FOCUS`: forwards `/compact FOCUS` to Claude.
    pub fn compact(&self, focus: &str, typed: &str) -> Result<String> {
        let store = self.store()?;
        self.ensure_idle(&store)?;
        let focus = focus.trim();
        let command = if focus.is_empty() {
            "/compact".to_string()
        } else {
            format!("/compact {focus}")
        };
        self.send_prompt(&command, TurnKind::Compact, Some(typed.to_string()));
        Ok(if focus.is_empty() {
            "compacting: /compact sent".to_string()
        } else {
            "compacting: /compact sent with your focus".to_string()
        })
    }

    /// `:subagent [--brief NAME] TASK`: a clean-context Claude in the background.
    pub fn subagent(&self, task: &str, brief: Option<&str>) -> Result<String> {
        let brief_text = match brief {
            Some(name) => Some(
                crate::briefs::load(&*self.store()?, name)?
                    .with_context(|| format!("no brief named '{name}'"))?
                    .text,
            ),
            None => None,
        };
        let id = self.jobs.start(task, brief_text.as_deref())?;
        Ok(format!("subagent job #{id} started; :jobs shows its progress, :pull {id} brings back its report"))
    }

    /// `:pull [JOB]`: sends a finished job's final report into this session, once: the job is
    /// marked pulled, and pulling it again says so and sends nothing.
    pub fn pull(&self, job: Option<&str>, typed: &str) -> Result<String> {
        let id = match job {
            Some(id) => id.trim().trim_start_matches('#').to_string(),
            None => match self.jobs.latest_done() {
                Some(info) => info.id,
                None if self.jobs.list().iter().any(|j| j.pulled) => {
                    bail!("every finished job was pulled already (:jobs lists them)")
                }
                None => bail!("no finished job to pull yet (:jobs lists them)"),
            },
        };
        let store = self.store()?;
        self.ensure_idle(&store)?;
        let (info, report) = self.jobs.take_report(&id)?;
        // The turn's input names the job even when the person left it to the default.
        let typed = match job {
            Some(_) => typed.to_string(),
            None => format!("{} {}", typed.trim(), info.id),
        };
        self.send_prompt(
            &self.templates.pull_prompt(&info.id, &info.task, &report),
            TurnKind::Subagent,
            Some(typed),
        );
        Ok(format!(
            "job #{} pulled: its report is sent to Claude",
            info.id
        ))
    }

    /// `:jobs`.
    pub fn jobs_listing(&self) -> String {
        let jobs = self.jobs.list();
        if jobs.is_empty() {
            return "no subagent jobs yet (:subagent TASK starts one)\n".to_string();
        }
        jobs.iter()
            .map(|j| format!("{}\n", crate::jobs::job_line(j)))
            .collect()
    }

    /// `:kill JOB`.
    pub fn kill(&self, job: &str) -> Result<String> {
        let id = job.trim_start_matches('#');
        self.jobs.kill(id)?;
        Ok(format!("job #{id} stopped"))
    }

    /// `:rename OLD NEW`.
    pub fn rename(&self, old: &str, new: &str) -> Result<String> {
        let store = self.store()?;
        refs::validate_branch_name(new).map_err(anyhow::Error::msg)?;
        if store.branch(old)?.is_none() {
            bail!("no branch '{old}'");
        }
        if store.branch(new)?.is_some() {
            bail!("a branch named '{new}' exists already");
        }
        store.rename_branch(old, new)?;
        if self.view().branch.as_deref() == Some(old) {
            self.view.lock().unwrap_or_else(|e| e.into_inner()).branch = Some(new.to_string());
        }
        Ok(format!("renamed {old} to {new}"))
    }

    /// Whether `:delete BRANCH` may go ahead (asked before the person is asked to confirm).
    pub fn check_deletable(&self, name: &str) -> Result<()> {
        let store = self.store()?;
        if name == self.current_branch(&store) {
            bail!("{name} is the current branch; check out another one first");
        }
        if store.branch(name)?.is_none() {
            return Err(crate::commands::no_branch(&store, name));
        }
        Ok(())
    }

    /// `:delete BRANCH` (after the person confirmed): never the current branch.
    pub fn delete(&self, name: &str) -> Result<String> {
        self.check_deletable(name)?;
        let store = self.store()?;
        let removed = store.delete_branch(name)?;
        Ok(format!("deleted {name} ({removed} turns of its own removed; turns other branches share are kept)"))
    }
}

/// Sends prompts into the running session on the person's behalf; cheap to clone, so a
/// background task (a replay) can use it.
#[derive(Clone)]
pub struct Prompter {
    handle: ProxyHandle,
    recorder: Sender<RecorderMsg>,
    view: Arc<Mutex<SessionView>>,
}

impl Prompter {
    pub fn send(&self, text: &str, kind: TurnKind, input: Option<String>) {
        let session = self
            .view
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .session_id
            .clone();
        if let Some(session_id) = session {
            if kind != TurnKind::Prompt || input.is_some() {
                let _ = self.recorder.send(RecorderMsg::ExpectPrompt {
                    session_id,
                    next: NextPrompt {
                        kind,
                        input,
                        merged: None,
                    },
                });
            }
        }
        let mut paste = b"\x1b[200~".to_vec();
        paste.extend_from_slice(text.as_bytes());
        paste.extend_from_slice(b"\x1b[201~");
        self.handle.send_input(paste);
        std::thread::sleep(SUBMIT_PAUSE);
        self.handle.send_input(b"\r".to_vec());
    }

    fn head(&self) -> Option<u64> {
        self.view.lock().unwrap_or_else(|e| e.into_inner()).head
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn restart_keeps_options_and_drops_sessions_and_prompts() {
        assert_eq!(
            restart_args(&args(&[
                "--model",
                "sonnet",
                "-c",
                "fix the test",
                "--verbose"
            ])),
            args(&["--model", "sonnet", "--verbose"])
        );
        assert_eq!(
            restart_args(&args(&["--resume", "abc", "--permission-mode=acceptEdits"])),
            args(&["--permission-mode=acceptEdits"])
        );
        assert_eq!(
            restart_args(&args(&["--resume", "--model", "x"])),
            args(&["--model", "x"])
        );
        assert_eq!(
            restart_args(&args(&["--session-id=u", "-p", "hi"])),
            args(&[] as &[&str])
        );
    }
}
