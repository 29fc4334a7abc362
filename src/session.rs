//! `ccx [CLAUDE ARGS]`: runs the real Claude Code through the PTY proxy with ccx's hooks
//! installed, and records every turn. Wires the pieces together: the claude command line
//! ([`crate::claude`]), the hook bridge, the recorder thread (the one owner of the store
//! handle) and the proxy, each set up by one step below.

use crate::claude::command::{die_with_parent, ClaudeCommand, ClaudeLauncher, SessionArg};
use crate::claude::find::find_claude;
use crate::claude::flags::{chooses_session, is_plain_invocation};
use crate::config::Config;
use crate::control::Controller;
use crate::hooks::bridge::Bridge;
use crate::hooks::settings;
use crate::ids::SessionId;
use crate::jobs::{JobInfo, JobManager};
use crate::proxy::{self, PassThrough};
use crate::recorder::{Recorder, RecorderMsg};
use crate::screen::ScreenModel;
use crate::shell::{MetaShell, ShellDeps};
use crate::store_slot::StoreSlot;
use crate::view::{SessionView, ViewHandle};
use crate::{backlog, diag, paths, runner, status};
use anyhow::{Context, Result};
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long hook messages already on their way may take to arrive once claude has exited.
const LATE_HOOK_GRACE: Duration = Duration::from_millis(300);
/// How long the end of a session waits for the background archive to reach a stopping point.
const ARCHIVE_EXIT_WAIT: Duration = Duration::from_secs(2);

/// What a recorded run is made of, once set up: the pieces the terminal loop and the ending
/// need.
struct Recorded {
    cwd: PathBuf,
    claude: PathBuf,
    config: Config,
    home: Option<PathBuf>,
    /// The hook bridge's run directory (the status line's files are there).
    run_dir: PathBuf,
    view: ViewHandle,
    store: StoreSlot,
    recorder_tx: mpsc::Sender<RecorderMsg>,
    launcher: ClaudeLauncher,
    /// The claude to start first.
    first: ClaudeCommand,
}

/// What the run leaves for its ending: the jobs to stop and the screen as Claude left it.
#[derive(Default)]
struct Leftovers {
    jobs: Option<JobManager>,
    screen: Option<ScreenModel>,
    /// The retention guard's background archive, stopped at its next file.
    archive: Option<crate::archive::Background>,
}

/// Runs claude with `args` through ccx and returns the exit code to report.
pub fn run(claude: Option<PathBuf>, args: Vec<OsString>) -> Result<i32> {
    let claude = find_claude(claude)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    if is_plain_invocation(&args) {
        return run_plain(ClaudeCommand::plain(&claude, &cwd, &args));
    }
    let (tx, rx) = mpsc::channel::<RecorderMsg>();
    let (run, bridge) = set_up(claude, cwd, args, tx)?;
    let recorder_thread = spawn_recorder(&run, rx);
    let mut leftovers = Leftovers {
        // The retention guard, in the background of interactive sessions only.
        archive: crate::archive::start_in_background(
            run.config.auto_archive && crate::terminal::is_tty(1),
            run.store.clone(),
            &run.cwd,
        ),
        ..Leftovers::default()
    };
    let store = run.store.clone();
    let tx = run.recorder_tx.clone();
    // Output to a pipe or a file (`ccx -p … | jq`): there is no screen to manage, so claude
    // runs directly with ccx's stdio (its bytes exactly as `claude` writes them), still
    // recorded through its hooks.
    let code = if crate::terminal::is_tty(1) {
        run_on_terminal(run, &mut leftovers)
    } else {
        run_direct(run.first)
    };
    finish(leftovers, tx, recorder_thread, bridge, &store);
    code
}

/// Everything before claude starts: config, hook bridge, settings, the first command line.
fn set_up(
    claude: PathBuf,
    cwd: PathBuf,
    mut args: Vec<OsString>,
    recorder_tx: mpsc::Sender<RecorderMsg>,
) -> Result<(Recorded, Bridge)> {
    let (config, config_problem) = Config::load();
    if let Some(problem) = &config_problem {
        // Claude's screen hides this line at once: the footer says it too.
        eprintln!("ccx: {problem}");
        diag::log(problem);
    }
    let hook_tx = recorder_tx.clone();
    let hooks_on_their_way = Arc::new(AtomicUsize::new(0));
    let counter = hooks_on_their_way.clone();
    let bridge = Bridge::start(&crate::runtime_dir::runtime_dir()?, move |event| {
        counter.fetch_add(1, Ordering::SeqCst);
        let _ = hook_tx.send(RecorderMsg::Hook(event));
    })?;
    let user_settings = settings::take_user_settings(&mut args).map_err(anyhow::Error::msg)?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    keep_user_status_line(&cwd, home.as_deref(), user_settings.as_ref(), &bridge);
    let view = ViewHandle::new(
        SessionView {
            rot_zone_tokens: config.rot_zone_tokens,
            problem: config_problem.map(|p| config_footer(&p)),
            ..Default::default()
        },
        Some(status::view_file(bridge.dir())),
    )
    .counting_hooks(hooks_on_their_way);
    let exe = std::env::current_exe().context("cannot find the ccx executable")?;
    let merged = settings::merge(
        user_settings.unwrap_or_else(|| serde_json::json!({})),
        &settings::ccx_settings(&exe, bridge.dir()),
    )
    .to_string();
    let session = (!chooses_session(&args)).then(|| {
        let session_id = SessionId::random();
        bridge.allow_session(session_id.as_str());
        SessionArg::New(session_id)
    });
    let run = Recorded {
        first: ClaudeCommand::interactive(&claude, &cwd, &merged, session.as_ref(), &args),
        launcher: ClaudeLauncher::new(&claude, &cwd, &merged, &args),
        cwd,
        claude,
        config,
        home,
        run_dir: bridge.dir().to_path_buf(),
        view,
        store: StoreSlot::default(),
        recorder_tx,
    };
    Ok((run, bridge))
}

/// Keeps the person's own status line command where the status command finds it, so
/// ccx's footer can show it after its own part.
fn keep_user_status_line(
    cwd: &Path,
    home: Option<&Path>,
    user_settings: Option<&Value>,
    bridge: &Bridge,
) {
    if let Some(theirs) = status::find_user_status_line(cwd, home, user_settings) {
        let _ = std::fs::write(status::user_status_file(bridge.dir()), theirs.to_string());
    }
}

/// The recorder thread. The turn log opens there, so claude starts at once; hook events wait
/// in the channel meanwhile. Its result: a line about what could not be saved, if anything.
fn spawn_recorder(
    run: &Recorded,
    rx: mpsc::Receiver<RecorderMsg>,
) -> std::io::Result<JoinHandle<Option<String>>> {
    let (slot, view, cwd) = (run.store.clone(), run.view.clone(), run.cwd.clone());
    std::thread::Builder::new()
        .name("ccx-recorder".into())
        .spawn(move || match crate::store::open_project(&cwd) {
            Ok(opened) => {
                let opened = Arc::new(opened);
                slot.fill(Ok(opened.clone()));
                let transcripts = crate::claude::paths::project_transcripts_dir(&cwd);
                crate::closure::close_dead_turns(&opened, transcripts.as_deref());
                let mut recorder = Recorder::new(opened)
                    .with_view(view.clone())
                    .with_snapshots(&cwd);
                if let Some(dir) = transcripts {
                    recorder = recorder.with_transcripts_dir(dir);
                }
                backlog::record(recorder, rx, view)
            }
            Err(err) => {
                // Never stand between the person and Claude: run unrecorded, say why.
                diag::log(&format!("not recording this session: {err:#}"));
                slot.fill(Err(format!("{err:#}")));
                // Claude owns the screen: say it in Claude's footer, which ccx owns.
                view.update(|v| v.problem = Some(format!("not recording: {err:#}")));
                None
            }
        })
}

/// Runs claude in ccx's PTY on the person's terminal, with the meta-command editor.
fn run_on_terminal(run: Recorded, leftovers: &mut Leftovers) -> Result<i32> {
    let (rows, cols) = runner::terminal_size();
    let spawned = proxy::spawn(run.first.into_pty(), rows, cols)?;
    let (screen, _screen_thread) = ScreenModel::spawn(rows, cols);
    leftovers.screen = Some(screen.clone());
    let history = Some(
        paths::project_store_dir(&paths::data_dir()?, &paths::project_dir(&run.cwd))
            .join("history.txt"),
    );
    let templates = crate::templates::Templates::new(run.config.templates.clone());
    let jobs = JobManager::new(
        run.claude.clone(),
        run.cwd.clone(),
        Vec::new(),
        run.store.clone(),
        templates.clone(),
        jobs_reporter(run.view.clone()),
    );
    leftovers.jobs = Some(jobs.clone());
    let shell_screen = screen.clone();
    let outcome = runner::run_on_terminal(spawned, Some(screen), move |handle| {
        let control = Controller {
            launcher: run.launcher,
            templates,
            jobs,
            home: run.home,
            store: run.store.clone(),
            recorder: run.recorder_tx,
            handle: handle.clone(),
            screen: shell_screen.clone(),
            view: run.view.clone(),
        };
        MetaShell::new(ShellDeps {
            store: run.store,
            view: run.view,
            run_dir: Some(run.run_dir),
            config: run.config,
            screen: shell_screen,
            handle,
            history,
            control,
        })
    });
    outcome.map(|o| runner::exit_code(&o))
}

/// After claude has exited: stop the jobs, let late hooks arrive, stop the recorder and the
/// hook bridge, and say how to resume the conversation.
fn finish(
    leftovers: Leftovers,
    tx: mpsc::Sender<RecorderMsg>,
    recorder_thread: std::io::Result<JoinHandle<Option<String>>>,
    bridge: Bridge,
    store: &StoreSlot,
) {
    if let Some(jobs) = leftovers.jobs {
        jobs.shutdown();
    }
    if let Some(archive) = leftovers.archive {
        archive.finish(ARCHIVE_EXIT_WAIT);
    }
    std::thread::sleep(LATE_HOOK_GRACE);
    let _ = tx.send(RecorderMsg::Shutdown);
    if let Ok(handle) = recorder_thread {
        if let Ok(Some(unsaved)) = handle.join() {
            eprintln!("ccx: {unsaved}");
        }
    }
    drop(bridge);
    if let Some(line) = leftovers
        .screen
        .and_then(|screen| screen.contents())
        .and_then(|text| resume_line(&text, store))
    {
        println!("{line}");
    }
    if let Ok(runtime) = crate::runtime_dir::runtime_dir() {
        crate::store::remove_stale_sockets(&runtime);
    }
}

/// After Claude's own `claude --resume <id>` on exit: ccx's line that resumes the same
/// conversation recorded, when ccx recorded it.
fn resume_line(screen: &str, store: &StoreSlot) -> Option<String> {
    let session = resumed_session_in(screen)?;
    let store = store.get(Duration::from_secs(2)).ok()?;
    let branch = store.branch_for_session(&session).ok()??;
    Some(format!(
        "ccx --resume {session}   (the same, recorded by ccx on branch {})",
        branch.name
    ))
}

/// The session id of the last `claude --resume <id>` Claude printed.
fn resumed_session_in(screen: &str) -> Option<SessionId> {
    let at = screen.rfind("claude --resume ")?;
    let id: String = screen[at + "claude --resume ".len()..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    uuid::Uuid::parse_str(&id).ok().map(|_| SessionId::new(id))
}

/// The footer's shorter form of a config problem: the file's name instead of its whole path.
fn config_footer(problem: &str) -> String {
    match crate::paths::config_file() {
        Some(path) => problem.replacen(&path.display().to_string(), "config.toml", 1),
        None => problem.to_string(),
    }
}

fn run_plain(claude: ClaudeCommand) -> Result<i32> {
    if !crate::terminal::is_tty(1) {
        return run_direct(claude);
    }
    let (rows, cols) = runner::terminal_size();
    let spawned = proxy::spawn(claude.into_pty(), rows, cols)?;
    let outcome = runner::run_on_terminal(spawned, None, |_| PassThrough)?;
    Ok(runner::exit_code(&outcome))
}

/// Runs claude without a PTY, with ccx's own stdio (for output to a pipe or a file). Its exit
/// code, or 128 + signal.
fn run_direct(claude: ClaudeCommand) -> Result<i32> {
    use std::os::unix::process::ExitStatusExt;
    let program = claude.program.clone();
    let mut direct = claude.into_process();
    // Claude ends if ccx dies.
    die_with_parent(&mut direct, libc::SIGTERM);
    let status = direct
        .status()
        .with_context(|| format!("cannot start {}", program.display()))?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Keeps the status line's word on subagent jobs current: how many run, which finished.
fn jobs_reporter(view: ViewHandle) -> Box<dyn Fn(&JobInfo) + Send + Sync> {
    let known = Mutex::new(std::collections::BTreeMap::<u64, JobInfo>::new());
    Box::new(move |info: &JobInfo| {
        let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
        known.insert(info.id.parse().unwrap_or(0), info.clone());
        let words = crate::jobs::footer_summary(known.values());
        view.update(|v| v.jobs = words);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_resume_line_is_found() {
        let id = "0123abcd-aaaa-4bbb-8ccc-000000000001";
        let screen = format!("bye\nResume this session with:\nclaude --resume {id}\n$ ");
        assert_eq!(
            resumed_session_in(&screen).as_ref().map(SessionId::as_str),
            Some(id)
        );
        assert_eq!(resumed_session_in("claude --resume\n"), None);
        assert_eq!(resumed_session_in("claude --resume not-an-id"), None);
    }
}
