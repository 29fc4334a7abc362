//! `ccx [CLAUDE ARGS]`: runs the real Claude Code through the PTY proxy with ccx's hooks
//! installed, and records every turn. Wires the pieces together: the claude command line,
//! the hook bridge, the recorder thread (the one owner of the store handle) and the proxy.

use crate::config::Config;
use crate::control::{restart_args, ClaudeLauncher, Controller};
use crate::hooks::bridge::Bridge;
use crate::hooks::settings;
use crate::jobs::{JobInfo, JobManager};
use crate::proxy::{self, PassThrough};
use crate::recorder::{Recorder, RecorderMsg, SessionView};
use crate::screen::ScreenModel;
use crate::shell::{MetaShell, ShellDeps};
use crate::store::Store;
use crate::store_slot::StoreSlot;
use crate::{backlog, diag, paths, runner, status};
use anyhow::{Context, Result};
use portable_pty::CommandBuilder;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Claude Code's own subcommands: they start no conversation (run plainly), and a word that
/// is one of these is never taken for a typo of a ccx subcommand.
pub const CLAUDE_SUBCOMMANDS: &[&str] = &[
    "mcp",
    "config",
    "update",
    "doctor",
    "install",
    "migrate-installer",
    "setup-token",
    "plugin",
    "agents",
];

/// Claude's flags that start no conversation: run them plainly.
const PLAIN_CLAUDE_FLAGS: &[&str] = &["-v", "--version", "-h", "--help"];

/// Claude flags that choose the session themselves (ccx then does not pass `--session-id`).
const SESSION_FLAGS: &[&str] = &[
    "-c",
    "--continue",
    "-r",
    "--resume",
    "--session-id",
    "--fork-session",
];

/// How long hook messages already on their way may take to arrive once claude has exited.
const LATE_HOOK_GRACE: Duration = Duration::from_millis(300);
/// How long the end of a session waits for the background archive to reach a stopping point.
const ARCHIVE_EXIT_WAIT: Duration = Duration::from_secs(2);

/// The `CLAUDECODE*` variables of this process: a claude that ccx starts must not see them,
/// or it would take itself for a session nested inside another Claude Code.
pub fn nested_session_vars() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| key.to_string_lossy().starts_with("CLAUDECODE"))
        .collect()
}

/// What ccx adds to the environment of the claude it records: agent view off, so no session
/// is handed to a background supervisor outside ccx's terminal and hooks (see README).
pub fn claude_env() -> Vec<(String, String)> {
    vec![("CLAUDE_CODE_DISABLE_AGENT_VIEW".into(), "1".into())]
}

/// Variables a claude that ccx starts must not see: `CLAUDECODE*` (or it would take itself
/// for a session nested inside another Claude Code) and a hook bridge's `CCX_HOOK_*` (from a
/// ccx this one runs under), which every process Claude runs would inherit.
pub fn hidden_vars() -> Vec<OsString> {
    let mut vars = nested_session_vars();
    for key in [
        crate::hooks::bridge::ENV_SOCKET,
        crate::hooks::bridge::ENV_SECRET,
    ] {
        if std::env::var_os(key).is_some() {
            vars.push(key.into());
        }
    }
    vars
}

/// Finds claude: `--ccx-claude PATH`, else `$CCX_CLAUDE`, else `claude` on `PATH`, else the
/// Claude Code that scripts/run.sh installed ([`crate::installed`]).
pub fn find_claude(explicit: Option<PathBuf>) -> Result<PathBuf> {
    let wanted = explicit.or_else(|| {
        std::env::var_os("CCX_CLAUDE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = wanted {
        return if is_executable(&path) {
            Ok(path)
        } else if !path.to_string_lossy().contains('/') {
            search_path(&path.to_string_lossy()).with_context(|| not_found(&path.to_string_lossy()))
        } else if path.is_dir() {
            anyhow::bail!(
                "{} is a directory, not Claude Code's executable",
                path.display()
            )
        } else if path.exists() {
            anyhow::bail!("{} is not executable", path.display())
        } else {
            anyhow::bail!("no executable there: {}", path.display())
        };
    }
    search_path("claude")
        .or_else(|| crate::installed::recorded_claude().filter(|p| is_executable(p)))
        .with_context(|| not_found("claude"))
}

fn not_found(what: &str) -> String {
    format!(
        "cannot find Claude Code ({what}): install it with `npm install -g @anthropic-ai/claude-code`, \
         or point ccx at it with --ccx-claude PATH or CCX_CLAUDE=PATH"
    )
}

fn search_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// True for an existing file with an execute bit (links followed).
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// True when the arguments ask claude for something other than a conversation.
fn is_plain_invocation(args: &[OsString]) -> bool {
    args.iter()
        .take(1)
        .chain(
            args.iter()
                .filter(|a| a.to_str().is_some_and(|s| s.starts_with('-'))),
        )
        .any(|a| {
            a.to_str()
                .is_some_and(|s| CLAUDE_SUBCOMMANDS.contains(&s) || PLAIN_CLAUDE_FLAGS.contains(&s))
        })
}

fn chooses_session(args: &[OsString]) -> bool {
    args.iter().any(|a| {
        a.to_str().is_some_and(|s| {
            SESSION_FLAGS
                .iter()
                .any(|f| s == *f || s.starts_with(&format!("{f}=")))
        })
    })
}

/// Runs claude with `args` through ccx and returns the exit code to report.
pub fn run(claude: Option<PathBuf>, mut args: Vec<OsString>) -> Result<i32> {
    let claude = find_claude(claude)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut cmd = CommandBuilder::new(&claude);
    cmd.cwd(&cwd);
    for key in hidden_vars() {
        cmd.env_remove(key);
    }
    if is_plain_invocation(&args) {
        cmd.args(&args);
        return run_plain(cmd);
    }

    let (config, config_problem) = Config::load();
    if let Some(problem) = &config_problem {
        // Claude's screen hides this line at once: the footer says it too.
        eprintln!("ccx: {problem}");
        diag::log(problem);
    }
    let store = StoreSlot::default();
    let (tx, rx) = mpsc::channel::<RecorderMsg>();
    let hook_tx = tx.clone();
    let bridge = Bridge::start(&paths::runtime_dir()?, move |event| {
        let _ = hook_tx.send(RecorderMsg::Hook(event));
    })?;

    let user_settings = settings::take_user_settings(&mut args).map_err(anyhow::Error::msg)?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if let Some(theirs) =
        status::find_user_status_line(&cwd, home.as_deref(), user_settings.as_ref())
    {
        let _ = std::fs::write(status::user_status_file(bridge.dir()), theirs.to_string());
    }
    let view = Arc::new(std::sync::Mutex::new(SessionView {
        rot_zone_tokens: config.rot_zone_tokens,
        problem: config_problem.map(|p| config_footer(&p)),
        ..Default::default()
    }));
    let view_file = status::view_file(bridge.dir());
    status::write_view(&view_file, &view.lock().unwrap_or_else(|e| e.into_inner()));
    let exe = std::env::current_exe().context("cannot find the ccx executable")?;
    let merged = settings::merge(
        user_settings.unwrap_or_else(|| serde_json::json!({})),
        &settings::ccx_settings(&exe, bridge.dir()),
    );
    let launcher = ClaudeLauncher {
        claude: claude.clone(),
        args: restart_args(&args),
        settings: merged.to_string(),
        env: claude_env(),
        cwd: cwd.clone(),
    };
    cmd.arg("--settings");
    cmd.arg(merged.to_string());
    if !chooses_session(&args) {
        let session_id = uuid::Uuid::new_v4().to_string();
        bridge.allow_session(&session_id);
        cmd.arg("--session-id");
        cmd.arg(&session_id);
    }
    cmd.args(&args);
    for (key, value) in claude_env() {
        cmd.env(key, value);
    }

    // The turn log opens on the recorder thread, so claude starts at once; hook events wait
    // in the channel meanwhile.
    let recorder_thread = {
        let (slot, view, cwd) = (store.clone(), view.clone(), cwd.clone());
        std::thread::Builder::new()
            .name("ccx-recorder".into())
            .spawn(move || {
                match open_store(&cwd) {
                    Ok(opened) => {
                        let opened = Arc::new(opened);
                        slot.fill(Ok(opened.clone()));
                        let transcripts = crate::transcript::project_transcripts_dir(&cwd);
                        crate::closure::close_dead_turns(&opened, transcripts.as_deref());
                        let sink = backlog::ViewSink {
                            view: view.clone(),
                            file: Some(view_file.clone()),
                        };
                        let mut recorder = Recorder::new(opened)
                            .with_view(view, Some(view_file))
                            .with_snapshots(&cwd);
                        if let Some(dir) = transcripts {
                            recorder = recorder.with_transcripts_dir(dir);
                        }
                        backlog::record(recorder, rx, sink)
                    }
                    Err(err) => {
                        // Never stand between the person and Claude: run unrecorded, say why.
                        diag::log(&format!("not recording this session: {err:#}"));
                        slot.fill(Err(format!("{err:#}")));
                        // Claude owns the screen: say it in Claude's footer, which ccx owns.
                        status::update_view(&view, Some(&view_file), |v| {
                            v.problem = Some(format!("not recording: {err:#}"))
                        });
                        None
                    }
                }
            })
    };

    // The retention guard, in the background of interactive sessions only.
    let archive = crate::archive::start_in_background(
        config.auto_archive && crate::terminal::is_tty(1),
        store.clone(),
        &cwd,
    );

    // Output to a pipe or a file (`ccx -p … | jq`): there is no screen to manage, so claude
    // runs directly with ccx's stdio (its bytes exactly as `claude` writes them), still
    // recorded through its hooks.
    let mut jobs_at_exit = None;
    let mut screen_at_exit = None;
    let store_at_exit = store.clone();
    let code = if crate::terminal::is_tty(1) {
        let (rows, cols) = runner::terminal_size();
        let spawned = proxy::spawn(cmd, rows, cols)?;
        let (screen, _screen_thread) = ScreenModel::spawn(rows, cols);
        screen_at_exit = Some(screen.clone());
        let history = Some(
            paths::project_store_dir(&paths::data_dir()?, &paths::project_dir(&cwd))
                .join("history.txt"),
        );
        let shell_screen = screen.clone();
        let templates = crate::templates::Templates::from_config(&config);
        let jobs = JobManager::new(
            claude.clone(),
            cwd.clone(),
            Vec::new(),
            store.clone(),
            templates.clone(),
            jobs_reporter(view.clone(), status::view_file(bridge.dir())),
        );
        let jobs_handle = jobs.clone();
        let run_dir = bridge.dir().to_path_buf();
        let recorder_tx = tx.clone();
        let outcome = runner::run_on_terminal(spawned, Some(screen), move |handle| {
            let control = Controller {
                launcher,
                templates,
                jobs,
                home,
                store: store.clone(),
                recorder: recorder_tx,
                handle: handle.clone(),
                screen: shell_screen.clone(),
                view: view.clone(),
            };
            MetaShell::new(ShellDeps {
                store,
                view,
                run_dir: Some(run_dir),
                config,
                screen: shell_screen,
                handle,
                history,
                control,
            })
        });
        jobs_at_exit = Some(jobs_handle);
        outcome.map(|o| runner::exit_code(&o))
    } else {
        run_direct(&cmd)
    };

    if let Some(jobs) = jobs_at_exit {
        jobs.shutdown();
    }
    if let Some(archive) = archive {
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
    if let Some(line) = screen_at_exit
        .and_then(|screen| screen.contents())
        .and_then(|text| resume_line(&text, &store_at_exit))
    {
        println!("{line}");
    }
    if let Ok(runtime) = paths::runtime_dir() {
        crate::store::remove_stale_sockets(&runtime);
    }
    code
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
fn resumed_session_in(screen: &str) -> Option<String> {
    let at = screen.rfind("claude --resume ")?;
    let id: String = screen[at + "claude --resume ".len()..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    uuid::Uuid::parse_str(&id).ok().map(|_| id)
}

/// The footer's shorter form of a config problem: the file's name instead of its whole path.
fn config_footer(problem: &str) -> String {
    match crate::paths::config_file() {
        Some(path) => problem.replacen(&path.display().to_string(), "config.toml", 1),
        None => problem.to_string(),
    }
}

fn run_plain(cmd: CommandBuilder) -> Result<i32> {
    if !crate::terminal::is_tty(1) {
        return run_direct(&cmd);
    }
    let (rows, cols) = runner::terminal_size();
    let spawned = proxy::spawn(cmd, rows, cols)?;
    let outcome = runner::run_on_terminal(spawned, None, |_| PassThrough)?;
    Ok(runner::exit_code(&outcome))
}

/// Runs a prepared claude command without a PTY, with ccx's own stdio (for output to a pipe
/// or a file). Its exit code, or 128 + signal.
fn run_direct(cmd: &CommandBuilder) -> Result<i32> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let (program, args) = cmd.get_argv().split_first().context("no program to run")?;
    let mut direct = std::process::Command::new(program);
    paths::with_inherited_umask(&mut direct);
    direct
        .args(args)
        .env_clear()
        .envs(cmd.iter_full_env_as_str());
    if let Some(cwd) = cmd.get_cwd() {
        direct.current_dir(cwd);
    }
    let ccx_pid = std::process::id() as libc::pid_t;
    // SAFETY: prctl, getppid and _exit are async-signal-safe. Claude ends if ccx dies.
    unsafe {
        direct.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            if libc::getppid() != ccx_pid {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let status = direct
        .status()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Keeps the status line's word on subagent jobs current: how many run, which finished.
fn jobs_reporter(
    view: Arc<std::sync::Mutex<SessionView>>,
    view_file: PathBuf,
) -> Box<dyn Fn(&JobInfo) + Send + Sync> {
    let known = std::sync::Mutex::new(std::collections::BTreeMap::<u64, JobInfo>::new());
    Box::new(move |info: &JobInfo| {
        let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
        known.insert(info.id.parse().unwrap_or(0), info.clone());
        let words = crate::jobs::footer_summary(known.values());
        status::update_view(&view, Some(&view_file), |v| v.jobs = words);
    })
}

/// Opens the store of the project in `cwd`.
pub fn open_store(cwd: &Path) -> Result<Store> {
    let project = paths::project_dir(cwd);
    let dir = paths::project_store_dir(&paths::data_dir()?, &project);
    let store = Store::open(&dir)?;
    paths::remember_project(&dir, &project);
    Ok(store)
}

/// The recorder thread: one event at a time, errors to the diagnostic log.
#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn plain_invocations_are_recognised() {
        assert!(is_plain_invocation(&args(&["mcp", "list"])));
        assert!(is_plain_invocation(&args(&["--version"])));
        assert!(!is_plain_invocation(&args(&["fix", "mcp"])));
        assert!(!is_plain_invocation(&args(&["--model", "sonnet"])));
    }

    #[test]
    fn claude_resume_line_is_found() {
        let id = "0123abcd-aaaa-4bbb-8ccc-000000000001";
        let screen = format!("bye\nResume this session with:\nclaude --resume {id}\n$ ");
        assert_eq!(resumed_session_in(&screen).as_deref(), Some(id));
        assert_eq!(resumed_session_in("claude --resume\n"), None);
        assert_eq!(resumed_session_in("claude --resume not-an-id"), None);
    }

    #[test]
    fn session_flags_are_recognised() {
        assert!(chooses_session(&args(&["-c"])));
        assert!(chooses_session(&args(&["--resume", "abc"])));
        assert!(chooses_session(&args(&["--session-id=abc"])));
        assert!(!chooses_session(&args(&["-p", "hi"])));
    }

    #[test]
    fn missing_claude_is_one_clear_error() {
        let err = find_claude(Some(PathBuf::from("/no/such/claude"))).unwrap_err();
        assert_eq!(format!("{err:#}"), "no executable there: /no/such/claude");
        let err = find_claude(Some(PathBuf::from("no-such-claude-anywhere"))).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("cannot find Claude Code") && text.contains("--ccx-claude"),
            "{text}"
        );
    }
}
