//! A fake session for the meta-commands' unit tests: a real turn log in a temporary directory,
//! scripted answers for the person's questions, and a record of every action a command took
//! ([`Call`]), so tests assert which session was resumed, which prompt was sent and what was
//! shown, without a terminal or a Claude.

use crate::config::Config;
use crate::ids::SessionId;
use crate::jobs::JobInfo;
use crate::meta::exec::ShellContext;
use crate::meta::ops::{Outcome, SessionArg, SessionOps};
use crate::model::{Branch, Turn, TurnEnd, TurnKind};
use crate::render::Palette;
use crate::store::Store;
use crate::templates::Templates;
use anyhow::{bail, Result};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

/// One action a command took through [`SessionOps`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    EnsureIdle,
    /// The conversation up to `turn` rebuilt as session `session`.
    Rebuild {
        turn: u64,
        session: String,
    },
    Plan {
        session: String,
        branch: String,
        ends_at: Option<String>,
    },
    /// Claude restarted, resuming this session.
    Resume(String),
    /// Claude restarted on a new session with this id.
    Start(String),
    Prompt {
        text: String,
        kind: TurnKind,
        input: Option<String>,
    },
    Restore(u64),
    Renamed {
        old: String,
        new: String,
    },
    Replay(Vec<String>),
    StartJob {
        task: String,
        brief: Option<String>,
    },
    TakeReport(String),
    KillJob(String),
    /// A headless fork of the conversation up to `turn` was asked `question`.
    AskFork {
        turn: Option<u64>,
        question: String,
    },
    /// The merge turn just sent merged this.
    Merged(crate::merge::Source),
}

pub struct FakeOps {
    _dir: tempfile::TempDir,
    pub store: Arc<Store>,
    /// The branch the session records into; a switch moves it to the planned branch.
    pub branch: String,
    pub typed: String,
    pub calls: Vec<Call>,
    /// What was printed, asked or confirmed, in order.
    pub shown: Vec<String>,
    /// Answers to `confirm`, in order (none left: no).
    pub confirms: VecDeque<bool>,
    /// Answers to `ask`, in order (none left: backed out).
    pub answers: VecDeque<Option<String>>,
    /// What `edit` returns (None: left unchanged).
    pub edited: Option<String>,
    /// Claude's own transcripts still there: session id → the uuid it ends at.
    pub transcripts: Vec<(String, Option<String>)>,
    /// Finished jobs and their reports.
    pub jobs: Vec<(JobInfo, String)>,
    /// `switch_to` fails (claude refused the conversation).
    pub refuse_switch: bool,
    pub claude: Option<PathBuf>,
    templates: Templates,
    config: Config,
    sessions_made: u32,
    planned: Option<String>,
    /// What a headless fork answers (None: it fails).
    pub fork_answer: Option<String>,
}

impl Default for FakeOps {
    fn default() -> Self {
        FakeOps::new()
    }
}

impl Call {
    /// The calls of a move onto the new branch `branch` forked after turn `turn` (the first
    /// rebuild of a [`FakeOps`]): Claude made idle, the conversation up to the turn rebuilt as
    /// session `rebuilt-1`, the switch planned, and that session resumed.
    pub fn fork_after(turn: u64, branch: &str) -> Vec<Call> {
        vec![
            Call::EnsureIdle,
            Call::Rebuild {
                turn,
                session: "rebuilt-1".into(),
            },
            Call::Plan {
                session: "rebuilt-1".into(),
                branch: branch.into(),
                ends_at: Some(format!("uuid-{turn}")),
            },
            Call::Resume("rebuilt-1".into()),
        ]
    }
}

impl FakeOps {
    /// An empty turn log, on branch `main`.
    pub fn new() -> FakeOps {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Arc::new(Store::open(dir.path()).expect("a store"));
        let config = Config::default();
        FakeOps {
            _dir: dir,
            store,
            branch: "main".into(),
            typed: String::new(),
            calls: Vec::new(),
            shown: Vec::new(),
            confirms: VecDeque::new(),
            answers: VecDeque::new(),
            edited: None,
            transcripts: Vec::new(),
            jobs: Vec::new(),
            refuse_switch: false,
            claude: None,
            templates: Templates::new(config.templates.clone()),
            config,
            sessions_made: 0,
            planned: None,
            fork_answer: None,
        }
    }

    /// Branch `main` with one finished turn per prompt (#1, #2, …), in session `s-main`.
    pub fn with_turns(prompts: &[&str]) -> FakeOps {
        let ops = FakeOps::new();
        for prompt in prompts {
            ops.add_turn("main", prompt);
        }
        ops
    }

    /// Adds a finished turn to `branch`; its id.
    pub fn add_turn(&self, branch: &str, prompt: &str) -> u64 {
        self.add_turn_of_kind(branch, prompt, TurnKind::Prompt)
    }

    /// Adds a finished turn of `kind` to `branch`; its id.
    pub fn add_turn_of_kind(&self, branch: &str, prompt: &str, kind: TurnKind) -> u64 {
        let turn = crate::query::fixtures::begin_turn(&self.store, branch, prompt, kind);
        self.store
            .finish_turn(
                turn.id,
                TurnEnd {
                    reply: format!("reply to {prompt}"),
                    ended_at: crate::model::now_rfc3339(),
                    context_tokens: 1000 * turn.id.get(),
                    ..TurnEnd::default()
                },
            )
            .expect("a finished turn");
        turn.id.get()
    }

    /// A branch forked from `parent` after turn `after`, carried by session `session`.
    pub fn add_branch(&self, name: &str, parent: &str, after: Option<u64>, session: &str) {
        self.store
            .create_branch(Branch {
                name: name.into(),
                session_id: session.into(),
                parent_branch: Some(parent.into()),
                fork_turn: after.map(crate::ids::TurnId),
                head: after.map(crate::ids::TurnId),
                ..Branch::default()
            })
            .expect("a branch");
    }

    /// Runs a typed line, as the editor does.
    pub fn run(&mut self, line: &str) -> Outcome {
        self.typed = line.to_string();
        match crate::meta::parse_meta(line) {
            Ok(Some(command)) => command.run(self),
            Ok(None) => Outcome::Text(String::new()),
            Err(e) => Outcome::Error(e.to_string()),
        }
    }

    /// What `line` showed as text; panics on any other outcome.
    pub fn text(&mut self, line: &str) -> String {
        match self.run(line) {
            Outcome::Text(text) => text,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// The one-line error `line` gave; panics on any other outcome.
    pub fn error(&mut self, line: &str) -> String {
        match self.run(line) {
            Outcome::Error(message) => message,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// What `line` said after switching the conversation; panics on any other outcome.
    pub fn switched(&mut self, line: &str) -> String {
        match self.run(line) {
            Outcome::Switched(message) => message,
            other => panic!("{line}: {other:?}"),
        }
    }

    /// The prompts sent, with their kind and input.
    pub fn prompts(&self) -> Vec<(String, TurnKind, Option<String>)> {
        self.calls
            .iter()
            .filter_map(|c| match c {
                Call::Prompt { text, kind, input } => Some((text.clone(), *kind, input.clone())),
                _ => None,
            })
            .collect()
    }

    fn turn_uuid(turn: &Turn) -> String {
        format!("uuid-{}", turn.id)
    }
}

impl SessionOps for FakeOps {
    fn typed(&self) -> &str {
        &self.typed
    }
    fn print(&mut self, text: &str) {
        self.shown.push(text.to_string());
    }
    fn confirm(&mut self, question: &str) -> bool {
        self.shown.push(question.to_string());
        self.confirms.pop_front().unwrap_or(false)
    }
    fn ask(&mut self, question: &str) -> Option<String> {
        self.shown.push(question.to_string());
        self.answers.pop_front().flatten()
    }
    fn edit(&mut self, _template: &str) -> Result<Option<String>> {
        Ok(self.edited.clone())
    }
    fn read(&mut self, f: &mut dyn FnMut(&ShellContext) -> Outcome) -> Outcome {
        let ctx = ShellContext {
            store: &self.store,
            branch: self.branch.clone(),
            session_id: Some(SessionId::new(format!("s-{}", self.branch))),
            model: None,
            reported_window: None,
            width: 80,
            palette: Palette { enabled: false },
            config: &self.config,
            claude: self.claude.clone(),
        };
        f(&ctx)
    }
    fn store(&mut self) -> Result<Arc<Store>> {
        Ok(self.store.clone())
    }
    fn current_branch(&mut self, _store: &Store) -> String {
        self.branch.clone()
    }
    fn templates(&self) -> &Templates {
        &self.templates
    }
    fn ensure_idle(&mut self, _store: &Store) -> Result<()> {
        self.calls.push(Call::EnsureIdle);
        Ok(())
    }
    fn rebuild_session(&mut self, _: &Store, turn: &Turn) -> Result<(SessionId, Option<String>)> {
        self.sessions_made += 1;
        let session = format!("rebuilt-{}", self.sessions_made);
        self.calls.push(Call::Rebuild {
            turn: turn.id.get(),
            session: session.clone(),
        });
        Ok((session.into(), Some(FakeOps::turn_uuid(turn))))
    }
    fn transcript_end(&mut self, session_id: &SessionId) -> Option<Option<String>> {
        self.transcripts
            .iter()
            .find(|(id, _)| session_id == id)
            .map(|(_, end)| end.clone())
    }
    fn new_session_id(&mut self) -> SessionId {
        self.sessions_made += 1;
        SessionId::new(format!("new-{}", self.sessions_made))
    }
    fn plan_branch(
        &mut self,
        session_id: &SessionId,
        branch: &str,
        history_ends_at: Option<String>,
    ) {
        self.planned = Some(branch.to_string());
        self.calls.push(Call::Plan {
            session: session_id.to_string(),
            branch: branch.into(),
            ends_at: history_ends_at,
        });
    }
    fn switch_to(&mut self, session: SessionArg) -> Result<()> {
        if self.refuse_switch {
            bail!("claude would not open that conversation (it exited at once); you are back where you were");
        }
        self.calls.push(match session {
            SessionArg::Resume(id) => Call::Resume(id.into()),
            SessionArg::New(id) => Call::Start(id.into()),
        });
        if let Some(branch) = self.planned.take() {
            self.branch = branch;
        }
        Ok(())
    }
    fn send_prompt(&mut self, text: &str, kind: TurnKind, input: Option<String>) {
        self.calls.push(Call::Prompt {
            text: text.into(),
            kind,
            input,
        });
    }
    fn restore_code(&mut self, turn: &Turn) -> Result<String> {
        self.calls.push(Call::Restore(turn.id.get()));
        Ok(format!("files as at #{}", turn.id))
    }
    fn branch_renamed(&mut self, old: &str, new: &str) {
        self.calls.push(Call::Renamed {
            old: old.into(),
            new: new.into(),
        });
        if self.branch == old {
            self.branch = new.to_string();
        }
    }
    fn replay_prompts(&mut self, prompts: Vec<String>) -> Result<()> {
        self.calls.push(Call::Replay(prompts));
        Ok(())
    }
    fn ask_fork(&mut self, _store: &Store, at: Option<&Turn>, question: &str) -> Result<String> {
        self.calls.push(Call::AskFork {
            turn: at.map(|t| t.id.get()),
            question: question.into(),
        });
        match &self.fork_answer {
            Some(answer) => Ok(answer.clone()),
            None => bail!("claude failed: no answer"),
        }
    }
    fn send_merge(&mut self, text: &str, input: Option<String>, source: crate::merge::Source) {
        self.send_prompt(text, TurnKind::Merge, input);
        self.calls.push(Call::Merged(source));
    }
    fn start_job(&mut self, task: &str, brief: Option<&str>) -> Result<String> {
        self.calls.push(Call::StartJob {
            task: task.into(),
            brief: brief.map(str::to_string),
        });
        Ok("1".into())
    }
    fn jobs(&mut self) -> Vec<JobInfo> {
        self.jobs.iter().map(|(info, _)| info.clone()).collect()
    }
    fn latest_done_job(&mut self) -> Option<JobInfo> {
        self.jobs
            .iter()
            .rev()
            .map(|(info, _)| info)
            .find(|info| !info.pulled)
            .cloned()
    }
    fn take_job_report(&mut self, id: &str) -> Result<(JobInfo, String)> {
        self.calls.push(Call::TakeReport(id.into()));
        let Some((info, report)) = self.jobs.iter_mut().find(|(info, _)| info.id == id) else {
            bail!("no job #{id}");
        };
        if info.pulled {
            bail!("job #{id} was pulled already");
        }
        info.pulled = true;
        Ok((info.clone(), report.clone()))
    }
    fn kill_job(&mut self, id: &str) -> Result<()> {
        self.calls.push(Call::KillJob(id.into()));
        Ok(())
    }
}
