//! What a meta-command may ask of the running session: [`SessionOps`], the effects a command
//! has (restart claude on another conversation, send a prompt, ask the person, write the turn
//! log) behind one trait, and [`Outcome`], what the editor shows afterwards. The live session
//! implements it over the PTY and the terminal (`shell::ops`); unit tests implement it with a
//! fake that records each call, so commands are tested without a terminal or a Claude.

pub use crate::claude::command::SessionArg;
use crate::ids::SessionId;
use crate::jobs::JobInfo;
use crate::meta::exec::ShellContext;
use crate::model::{Turn, TurnKind};
use crate::store::Store;
use crate::templates::Templates;
use anyhow::Result;
use std::sync::Arc;

/// The result of a command: what the editor shows, and whether it stays open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Text to show; may be many lines. The editor stays open.
    Text(String),
    /// End Claude and ccx.
    Quit,
    /// One line saying what went wrong; nothing was changed.
    Error(String),
    /// Claude now runs another conversation (or was sent a prompt): back to it at once, and
    /// the footer shows this one line.
    Switched(String),
}

impl Outcome {
    /// `Text` on success, else the error's one line.
    pub fn shown(result: Result<String>) -> Outcome {
        match result {
            Ok(text) => Outcome::Text(text),
            Err(err) => Outcome::Error(format!("{err:#}")),
        }
    }

    /// `Switched` on success, else the error's one line.
    pub fn switched(result: Result<String>) -> Outcome {
        match result {
            Ok(message) => Outcome::Switched(message),
            Err(err) => Outcome::Error(format!("{err:#}")),
        }
    }
}

/// The running session as meta-commands see it. Methods that act take `&mut self`, so a fake
/// can record them in order.
pub trait SessionOps {
    // The person.

    /// The line as the person typed it (kept as a turn's `input` when a command writes the
    /// prompt Claude receives).
    fn typed(&self) -> &str;
    /// Shows text now, before the command's outcome (a question, a note).
    fn print(&mut self, text: &str);
    /// Asks a yes/no question (`[y/N]` is part of `question`); true only for yes.
    fn confirm(&mut self, question: &str) -> bool;
    /// Asks for one line; None when the person backs out.
    fn ask(&mut self, question: &str) -> Option<String>;
    /// Opens the person's editor on `template`; the text written, or None when it came back
    /// unchanged or empty.
    fn edit(&mut self, template: &str) -> Result<Option<String>>;

    // Reading.

    /// Runs `f` with what a read-only command needs (the turn log, the current branch, the
    /// terminal's width and colours, the model); an error when the turn log is not available.
    fn read(&mut self, f: &mut dyn FnMut(&ShellContext) -> Outcome) -> Outcome;
    /// The turn log (waiting a bounded while if it is still opening).
    fn store(&mut self) -> Result<Arc<Store>>;
    /// The branch the running session records into (what HEAD means).
    fn current_branch(&mut self, store: &Store) -> String;
    /// The prompt templates (config.toml may override them).
    fn templates(&self) -> &Templates;

    // The running conversation.

    /// Fails, in one line, while Claude is still working on a turn of this session.
    fn ensure_idle(&mut self, store: &Store) -> Result<()>;
    /// Writes the conversation up to `turn` as a new Claude session from the turn log;
    /// returns its session id and the uuid its history ends at.
    fn rebuild_session(
        &mut self,
        store: &Store,
        turn: &Turn,
    ) -> Result<(SessionId, Option<String>)>;
    /// When Claude's own transcript of `session_id` is still there: the uuid it ends at.
    fn transcript_end(&mut self, session_id: &SessionId) -> Option<Option<String>>;
    /// A new session id for a fresh conversation.
    fn new_session_id(&mut self) -> SessionId;
    /// Tells the recorder which branch the session `session_id` records into.
    fn plan_branch(
        &mut self,
        session_id: &SessionId,
        branch: &str,
        history_ends_at: Option<String>,
    );
    /// Restarts claude on `session` and waits for its prompt; on failure the previous
    /// conversation is resumed.
    fn switch_to(&mut self, session: SessionArg) -> Result<()>;
    /// Sends `text` to Claude as a prompt, recorded as `kind` with the person's `input`.
    fn send_prompt(&mut self, text: &str, kind: TurnKind, input: Option<String>);
    /// Puts the files back as they were at `turn`'s snapshot (snapshotting them first); a
    /// one-line summary of what changed.
    fn restore_code(&mut self, turn: &Turn) -> Result<String>;
    /// A branch was renamed: the session follows when it is the current one.
    fn branch_renamed(&mut self, old: &str, new: &str);
    /// Sends `prompts` one turn at a time, in the background.
    fn replay_prompts(&mut self, prompts: Vec<String>) -> Result<()>;
    /// Asks `question` of a headless fork of the conversation up to `at` (None: a fresh
    /// conversation): the running Claude receives nothing, and no session is left behind.
    fn ask_fork(&mut self, store: &Store, at: Option<&Turn>, question: &str) -> Result<String>;
    /// Sends `text` to Claude as a turn of kind `merge`, remembering what it merged.
    fn send_merge(&mut self, text: &str, input: Option<String>, source: crate::merge::Source);

    // Subagent jobs.

    /// Starts a clean-context Claude on `task` (with a brief's text); its job id.
    fn start_job(&mut self, task: &str, brief: Option<&str>) -> Result<String>;
    /// The jobs of this session.
    fn jobs(&mut self) -> Vec<JobInfo>;
    /// The latest finished job not yet pulled.
    fn latest_done_job(&mut self) -> Option<JobInfo>;
    /// Takes a finished job's report (once: the job is marked pulled).
    fn take_job_report(&mut self, id: &str) -> Result<(JobInfo, String)>;
    /// Stops a job.
    fn kill_job(&mut self, id: &str) -> Result<()>;
}
