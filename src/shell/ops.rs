//! The live session behind the meta-commands: [`SessionOps`] over the editor (questions,
//! `$EDITOR`, what is shown) and the session controller (restarts, prompts, jobs).

use super::{read_key, MetaShell, STORE_WAIT};
use crate::ids::SessionId;
use crate::jobs::JobInfo;
use crate::meta::exec::ShellContext;
use crate::meta::ops::{Outcome, SessionArg, SessionOps};
use crate::model::{Turn, TurnKind};
use crate::moves::{CodeChange, Place};
use crate::render::Palette;
use crate::store::Store;
use crate::templates::Templates;
use anyhow::Result;
use std::sync::Arc;

/// One line's run against the live session. The moves it makes (a switch of conversation, a
/// code restore) are recorded in the moves history (`crate::moves`) as it makes them, so
/// `:undo` can take them back.
pub(super) struct LiveOps<'a> {
    shell: &'a mut MetaShell,
    typed: &'a str,
    palette: Palette,
    /// Where the conversation was before this line changed anything.
    from: Option<Place>,
    /// The branch the line's next session records into.
    planned: Option<String>,
    /// Files the line restored.
    code: Option<CodeChange>,
    /// The line's move is in the history.
    recorded: bool,
}

impl<'a> LiveOps<'a> {
    pub(super) fn new(shell: &'a mut MetaShell, typed: &'a str, palette: Palette) -> Self {
        LiveOps {
            shell,
            typed,
            palette,
            from: None,
            planned: None,
            code: None,
            recorded: false,
        }
    }

    fn control(&self) -> &crate::control::Controller {
        &self.shell.deps.control
    }

    /// Notes where the conversation is, before the line's first change.
    fn note_start(&mut self) {
        if self.from.is_none() {
            if let Ok(store) = self.control().store() {
                self.from = Some(self.control().place(&store));
            }
        }
    }

    /// Adds the line's move to the history: from where it started to `to` (None: the same
    /// conversation, files only). `:undo` records its own.
    fn record_move(&mut self, to: Option<Place>) {
        let kind = self
            .typed
            .trim()
            .trim_start_matches(':')
            .split_whitespace()
            .next()
            .unwrap_or("move")
            .to_string();
        if kind == crate::meta::commands::undo::SPEC.name || self.recorded {
            return;
        }
        let Ok(store) = self.control().store() else {
            return;
        };
        let from = self.from.clone();
        let to = to.or_else(|| from.clone());
        let mut mv = crate::moves::new_move(&kind, from, to, self.typed.trim().to_string());
        mv.code = self.code.clone();
        self.recorded = true;
        if let Err(err) = crate::moves::record(&store, mv) {
            crate::diag::log(&format!("the move was not added to the history: {err:#}"));
        }
    }
}

impl Drop for LiveOps<'_> {
    /// A line that restored files without switching (`:checkout --code` of the current
    /// branch, or a switch that failed after its restore) is still a move `:undo` can take back.
    fn drop(&mut self) {
        if self.code.is_some() && !self.recorded {
            self.record_move(None);
        }
    }
}

impl SessionOps for LiveOps<'_> {
    fn typed(&self) -> &str {
        self.typed
    }

    fn print(&mut self, text: &str) {
        self.shell.print(text);
    }

    fn confirm(&mut self, question: &str) -> bool {
        self.shell.print(question);
        let answer = read_key();
        self.shell.print("\n");
        matches!(answer, Some(b'y' | b'Y'))
    }

    fn ask(&mut self, question: &str) -> Option<String> {
        self.shell.ask(question)
    }

    fn edit(&mut self, template: &str) -> Result<Option<String>> {
        self.shell.edit_text(template)
    }

    /// The turn log, the branch the session records into, the terminal's width, and what
    /// Claude reported about the model it runs (one context window for the session).
    fn read(&mut self, f: &mut dyn FnMut(&ShellContext) -> Outcome) -> Outcome {
        let deps = &self.shell.deps;
        let store = match deps.store.get(STORE_WAIT) {
            Ok(store) => store,
            Err(why) => return Outcome::Error(format!("the turn log is not available: {why}")),
        };
        let view = deps.view.get();
        let branch = view.branch.clone().unwrap_or_else(|| {
            crate::query::current_branch(&store).unwrap_or_else(|_| "main".into())
        });
        let width = crate::terminal::size(1)
            .map(|(_, c)| c as usize)
            .unwrap_or(100);
        let report = deps.run_dir.as_deref().and_then(crate::status::read_report);
        let ctx = ShellContext {
            store: &store,
            branch,
            session_id: view.session_id.clone(),
            model: view
                .model
                .clone()
                .or_else(|| report.as_ref()?.model.clone()),
            reported_window: report.as_ref().and_then(|r| r.context_window),
            width,
            palette: self.palette,
            config: &deps.config,
            claude: Some(crate::claude::find::claude_now(
                &deps.control.launcher.claude,
            )),
        };
        f(&ctx)
    }

    fn store(&mut self) -> Result<Arc<Store>> {
        self.control().store()
    }

    fn current_branch(&mut self, store: &Store) -> String {
        self.control().current_branch(store)
    }

    fn templates(&self) -> &Templates {
        &self.control().templates
    }

    fn ensure_idle(&mut self, store: &Store) -> Result<()> {
        self.control().ensure_idle(store)
    }

    fn rebuild_session(
        &mut self,
        store: &Store,
        turn: &Turn,
    ) -> Result<(SessionId, Option<String>)> {
        self.control().rebuild_session(store, turn)
    }

    fn transcript_end(&mut self, session_id: &SessionId) -> Option<Option<String>> {
        self.control().transcript_end(session_id)
    }

    fn new_session_id(&mut self) -> SessionId {
        SessionId::random()
    }

    fn plan_branch(
        &mut self,
        session_id: &SessionId,
        branch: &str,
        history_ends_at: Option<String>,
    ) {
        self.note_start();
        self.planned = Some(branch.to_string());
        self.control().plan(session_id, branch, history_ends_at);
    }

    fn switch_to(&mut self, session: SessionArg) -> Result<()> {
        self.note_start();
        let session_id = match &session {
            SessionArg::New(id) | SessionArg::Resume(id) => id.clone(),
        };
        self.control().switch_to(session)?;
        let branch = self
            .planned
            .clone()
            .or_else(|| self.from.as_ref().map(|f| f.branch.clone()));
        if let Some(branch) = branch {
            self.record_move(Some(Place {
                branch,
                session_id: Some(session_id),
            }));
        }
        Ok(())
    }

    fn send_prompt(&mut self, text: &str, kind: TurnKind, input: Option<String>) {
        self.control().send_prompt(text, kind, input);
    }

    fn restore_code(&mut self, turn: &Turn) -> Result<String> {
        self.note_start();
        let (summary, code) = self.control().restore_code(turn)?;
        self.code = code;
        Ok(summary)
    }

    fn branch_renamed(&mut self, old: &str, new: &str) {
        self.control().branch_renamed(old, new);
    }

    fn replay_prompts(&mut self, prompts: Vec<String>) -> Result<()> {
        self.control().start_replay(prompts)
    }

    fn ask_fork(&mut self, store: &Store, at: Option<&Turn>, question: &str) -> Result<String> {
        self.control().ask_fork(store, at, question)
    }

    fn send_merge(&mut self, text: &str, input: Option<String>, source: crate::merge::Source) {
        self.control().send_merge(text, input, source);
    }

    fn start_job(&mut self, task: &str, brief: Option<&str>) -> Result<String> {
        self.control().jobs.start(task, brief)
    }

    fn jobs(&mut self) -> Vec<JobInfo> {
        self.control().jobs.list()
    }

    fn latest_done_job(&mut self) -> Option<JobInfo> {
        self.control().jobs.latest_done()
    }

    fn take_job_report(&mut self, id: &str) -> Result<(JobInfo, String)> {
        self.control().jobs.take_report(id)
    }

    fn kill_job(&mut self, id: &str) -> Result<()> {
        self.control().jobs.kill(id)
    }
}
