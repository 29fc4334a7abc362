//! Meta-commands run against the turn log alone, with no running session behind them: the
//! read-only ones run; a command whose spec says it needs a session answers, in one line, that
//! it needs one, and changes nothing.

use crate::ids::SessionId;
use crate::jobs::JobInfo;
use crate::meta::commands::MetaCommand;
use crate::meta::exec::ShellContext;
use crate::meta::ops::{Outcome, SessionArg, SessionOps};
use crate::model::{Turn, TurnKind};
use crate::store::Store;
use crate::templates::Templates;
use anyhow::{bail, Result};
use std::sync::Arc;

/// Runs one meta-command against `ctx`'s turn log.
pub fn execute(cmd: &dyn MetaCommand, ctx: &ShellContext) -> Outcome {
    if cmd.spec().needs_session {
        return Outcome::Error(format!(
            "`:{}` needs a running ccx session (the editor inside `ccx`)",
            cmd.name()
        ));
    }
    let templates = Templates::new(ctx.config.templates.clone());
    cmd.run(&mut ReadOnly { ctx, templates })
}

/// [`SessionOps`] over a read context: reading works; acting fails, and asking gets "no".
struct ReadOnly<'a, 'c> {
    ctx: &'a ShellContext<'c>,
    templates: Templates,
}

const NO_SESSION: &str = "this needs a running ccx session (the editor inside `ccx`)";

impl SessionOps for ReadOnly<'_, '_> {
    fn typed(&self) -> &str {
        ""
    }
    fn print(&mut self, _text: &str) {}
    fn confirm(&mut self, _question: &str) -> bool {
        false
    }
    fn ask(&mut self, _question: &str) -> Option<String> {
        None
    }
    fn edit(&mut self, _template: &str) -> Result<Option<String>> {
        bail!(NO_SESSION)
    }
    fn read(&mut self, f: &mut dyn FnMut(&ShellContext) -> Outcome) -> Outcome {
        f(self.ctx)
    }
    fn store(&mut self) -> Result<Arc<Store>> {
        bail!(NO_SESSION)
    }
    fn current_branch(&mut self, _store: &Store) -> String {
        self.ctx.branch.clone()
    }
    fn templates(&self) -> &Templates {
        &self.templates
    }
    fn ensure_idle(&mut self, _store: &Store) -> Result<()> {
        bail!(NO_SESSION)
    }
    fn rebuild_session(&mut self, _: &Store, _: &Turn) -> Result<(SessionId, Option<String>)> {
        bail!(NO_SESSION)
    }
    fn transcript_end(&mut self, _session_id: &SessionId) -> Option<Option<String>> {
        None
    }
    fn new_session_id(&mut self) -> SessionId {
        SessionId::random()
    }
    fn plan_branch(&mut self, _: &SessionId, _: &str, _: Option<String>) {}
    fn switch_to(&mut self, _session: SessionArg) -> Result<()> {
        bail!(NO_SESSION)
    }
    fn send_prompt(&mut self, _: &str, _: TurnKind, _: Option<String>) {}
    fn restore_code(&mut self, _turn: &Turn) -> Result<String> {
        bail!(NO_SESSION)
    }
    fn branch_renamed(&mut self, _old: &str, _new: &str) {}
    fn replay_prompts(&mut self, _prompts: Vec<String>) -> Result<()> {
        bail!(NO_SESSION)
    }
    fn ask_fork(&mut self, _store: &Store, _at: Option<&Turn>, _question: &str) -> Result<String> {
        bail!(NO_SESSION)
    }
    fn send_merge(&mut self, _text: &str, _input: Option<String>, _source: crate::merge::Source) {}
    fn start_job(&mut self, _task: &str, _brief: Option<&str>) -> Result<String> {
        bail!(NO_SESSION)
    }
    fn jobs(&mut self) -> Vec<JobInfo> {
        Vec::new()
    }
    fn latest_done_job(&mut self) -> Option<JobInfo> {
        None
    }
    fn take_job_report(&mut self, _id: &str) -> Result<(JobInfo, String)> {
        bail!(NO_SESSION)
    }
    fn kill_job(&mut self, _id: &str) -> Result<()> {
        bail!(NO_SESSION)
    }
}
