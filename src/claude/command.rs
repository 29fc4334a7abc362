//! The one place claude's command lines are built and its processes prepared: interactive
//! (in ccx's PTY, with ccx's settings, on a new or resumed session, plus the person's
//! arguments), and headless `-p` runs (a subagent job, one turn of a replay). Every claude ccx
//! starts gets the same environment treatment ([`super::env`]); [`die_with_parent`] is the one
//! way a claude is tied to ccx's life.

use super::env::{claude_env, hidden_vars};
use super::find::claude_now;
use super::flags::restart_args;
use crate::ids::SessionId;
use portable_pty::CommandBuilder;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Which conversation to start claude on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionArg {
    /// A new session with this id (`--session-id ID`).
    New(SessionId),
    /// An existing session (`--resume ID`).
    Resume(SessionId),
}

impl SessionArg {
    /// The two words that say it on claude's command line.
    pub fn args(&self) -> [&str; 2] {
        match self {
            SessionArg::New(id) => ["--session-id", id.as_str()],
            SessionArg::Resume(id) => ["--resume", id.as_str()],
        }
    }
}

/// A claude to start: program, arguments, directory, and what ccx adds to its environment.
#[derive(Debug, Clone)]
pub struct ClaudeCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    /// Variables set on top of ccx's own environment (after [`hidden_vars`] are removed).
    pub env: Vec<(String, String)>,
}

impl ClaudeCommand {
    /// `claude ARGS` as the person typed them (a subcommand, `--version`): nothing added.
    pub fn plain(program: &Path, cwd: &Path, args: &[OsString]) -> ClaudeCommand {
        ClaudeCommand {
            program: program.to_path_buf(),
            args: args.to_vec(),
            cwd: cwd.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// A recorded conversation: `claude --settings SETTINGS [SESSION] ARGS`, with ccx's
    /// environment additions. No `session` when the person's arguments choose it.
    pub fn interactive(
        program: &Path,
        cwd: &Path,
        settings: &str,
        session: Option<&SessionArg>,
        args: &[OsString],
    ) -> ClaudeCommand {
        let mut all: Vec<OsString> = vec!["--settings".into(), settings.into()];
        if let Some(session) = session {
            all.extend(session.args().map(OsString::from));
        }
        all.extend(args.iter().cloned());
        ClaudeCommand {
            program: program.to_path_buf(),
            args: all,
            cwd: cwd.to_path_buf(),
            env: claude_env(),
        }
    }

    /// A subagent job: `claude -p --output-format stream-json --verbose --session-id ID
    /// --permission-mode acceptEdits -- PROMPT`.
    pub fn job(program: &Path, cwd: &Path, session_id: &SessionId, prompt: &str) -> ClaudeCommand {
        let mut args: Vec<OsString> = ["-p", "--output-format", "stream-json", "--verbose"]
            .into_iter()
            .chain(SessionArg::New(session_id.clone()).args())
            .chain(["--permission-mode", "acceptEdits", "--"])
            .map(OsString::from)
            .collect();
        args.push(prompt.into());
        ClaudeCommand::plain(program, cwd, &args)
    }

    /// One turn of a headless replay, the prompt going on stdin: `claude -p SESSION
    /// --output-format json --permission-mode acceptEdits [--model M]`.
    pub fn replay_turn(
        program: &Path,
        cwd: &Path,
        session: &SessionArg,
        model: Option<&str>,
    ) -> ClaudeCommand {
        let mut args: Vec<OsString> = std::iter::once("-p")
            .chain(session.args())
            .chain([
                "--output-format",
                "json",
                "--permission-mode",
                "acceptEdits",
            ])
            .map(OsString::from)
            .collect();
        if let Some(model) = model {
            args.extend(["--model".into(), model.into()]);
        }
        ClaudeCommand::plain(program, cwd, &args)
    }

    /// A question to a headless fork that leaves no session behind: `claude -p [--resume
    /// SESSION --fork-session] --no-session-persistence --output-format json`, the question on
    /// stdin, with the environment of ccx's interactive claude.
    pub fn fork_question(program: &Path, cwd: &Path, session: Option<&SessionId>) -> ClaudeCommand {
        let mut args: Vec<OsString> = vec!["-p".into()];
        if let Some(session) = session {
            args.extend(
                SessionArg::Resume(session.clone())
                    .args()
                    .map(OsString::from),
            );
            args.push("--fork-session".into());
        }
        args.extend(["--no-session-persistence", "--output-format", "json"].map(OsString::from));
        ClaudeCommand {
            env: claude_env(),
            ..ClaudeCommand::plain(program, cwd, &args)
        }
    }

    /// For ccx's PTY.
    pub fn into_pty(self) -> CommandBuilder {
        let mut cmd = CommandBuilder::new(&self.program);
        cmd.cwd(&self.cwd);
        for key in hidden_vars() {
            cmd.env_remove(key);
        }
        cmd.args(&self.args);
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }

    /// As a plain process (no PTY), started with the person's umask.
    pub fn into_process(self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.program);
        crate::paths::with_inherited_umask(&mut cmd);
        cmd.args(&self.args).current_dir(&self.cwd);
        for key in hidden_vars() {
            cmd.env_remove(key);
        }
        cmd.envs(self.env);
        cmd
    }
}

/// Everything needed to start claude again on another conversation, in the same PTY.
#[derive(Debug, Clone)]
pub struct ClaudeLauncher {
    /// Claude as found at launch (see [`super::find::claude_now`]).
    pub claude: PathBuf,
    /// The person's arguments that still apply after a restart ([`restart_args`]).
    pub args: Vec<OsString>,
    /// ccx's `--settings` (merged with the person's).
    pub settings: String,
    pub cwd: PathBuf,
}

impl ClaudeLauncher {
    /// For a session started with the person's `args`.
    pub fn new(claude: &Path, cwd: &Path, settings: &str, args: &[OsString]) -> ClaudeLauncher {
        ClaudeLauncher {
            claude: claude.to_path_buf(),
            args: restart_args(args),
            settings: settings.to_string(),
            cwd: cwd.to_path_buf(),
        }
    }

    /// claude on `session`, for the PTY.
    pub fn command(&self, session: &SessionArg) -> CommandBuilder {
        let claude = claude_now(&self.claude);
        ClaudeCommand::interactive(
            &claude,
            &self.cwd,
            &self.settings,
            Some(session),
            &self.args,
        )
        .into_pty()
    }
}

/// Ties `cmd`'s process to ccx: it gets `signal` when the thread that spawns it ends (so
/// spawn from a thread that lives as long as ccx), and it does not start at all when ccx is
/// already gone.
pub fn die_with_parent(cmd: &mut std::process::Command, signal: libc::c_int) {
    use std::os::unix::process::CommandExt;
    let ccx_pid = std::process::id() as libc::pid_t;
    // SAFETY: prctl, getppid and _exit are async-signal-safe; nothing else runs between fork
    // and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, signal);
            if libc::getppid() != ccx_pid {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(cmd: &ClaudeCommand) -> Vec<String> {
        cmd.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn interactive_puts_settings_and_session_before_the_persons_arguments() {
        let (claude, cwd) = (Path::new("/bin/claude"), Path::new("/w"));
        let person: Vec<OsString> = vec!["--model".into(), "sonnet".into()];
        let new = SessionArg::New("S".into());
        let cmd = ClaudeCommand::interactive(claude, cwd, "{}", Some(&new), &person);
        assert_eq!(
            words(&cmd),
            ["--settings", "{}", "--session-id", "S", "--model", "sonnet"]
        );
        assert!(cmd
            .env
            .iter()
            .any(|(k, v)| k == super::super::env::DISABLE_AGENT_VIEW && v == "1"));
        let resume = SessionArg::Resume("R".into());
        let cmd = ClaudeCommand::interactive(claude, cwd, "{}", Some(&resume), &[]);
        assert_eq!(words(&cmd), ["--settings", "{}", "--resume", "R"]);
        let cmd = ClaudeCommand::interactive(claude, cwd, "{}", None, &["-c".into()]);
        assert_eq!(words(&cmd), ["--settings", "{}", "-c"]);
    }

    #[test]
    fn headless_runs_are_print_mode() {
        let (claude, cwd) = (Path::new("/bin/claude"), Path::new("/w"));
        let first =
            ClaudeCommand::replay_turn(claude, cwd, &SessionArg::New("S".into()), Some("sonnet"));
        assert_eq!(
            words(&first),
            [
                "-p",
                "--session-id",
                "S",
                "--output-format",
                "json",
                "--permission-mode",
                "acceptEdits",
                "--model",
                "sonnet"
            ]
        );
        let next = ClaudeCommand::replay_turn(claude, cwd, &SessionArg::Resume("S".into()), None);
        assert_eq!(&words(&next)[..3], ["-p", "--resume", "S"]);
        let job = ClaudeCommand::job(claude, cwd, &"J".into(), "do it");
        assert_eq!(
            words(&job),
            [
                "-p",
                "--output-format",
                "stream-json",
                "--verbose",
                "--session-id",
                "J",
                "--permission-mode",
                "acceptEdits",
                "--",
                "do it"
            ]
        );
        assert!(job.env.is_empty());
    }
}
