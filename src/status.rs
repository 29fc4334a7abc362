//! ccx's state in Claude Code's own footer, through the `statusLine` setting: `ccx __status`
//! prints `ccx · BRANCH · #TURN · 123k ctx` (a warning inside the rot zone), followed by the
//! person's own status line when they have one. The running ccx writes its view to a file in
//! its private run directory; the status command only reads it, so it costs Claude nothing.
//!
//! The footer also says, for a few seconds, what the person's last meta-command did ("on
//! branch try-x, forked after #4 of main; main is kept"): a [`crate::view::Notice`] in the view, with an
//! expiry. Claude Code 2.1.330 runs the status command once when its footer appears, then only
//! on its own events (a turn's usage, a resize, a model change; 300 ms debounce) — never while
//! idle, so a notice written after a command would wait for the next turn. ccx therefore sets
//! `refreshInterval` ([`REFRESH_SECS`]): the footer is re-read every second, the notice shows
//! within a second and goes when it expires. The person's own status command is not run that
//! often: its line is kept and re-run only when Claude's payload changes (its cost and cache
//! figures aside) or after their own `refreshInterval`.
//!
//! The status command also keeps what Claude reports about the session (the model and its
//! context window) in the run directory, where `:context` reads it.

use crate::hooks::bridge::ENV_SOCKET;
use crate::paths::write_atomically;
use crate::render;
use crate::view::{now_ms, SessionView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The internal subcommand Claude Code runs for the status line.
pub const STATUS_SUBCOMMAND: &str = "__status";
/// How often Claude Code re-runs the status command (its `refreshInterval`, seconds).
pub const REFRESH_SECS: u64 = 1;
const VIEW_FILE: &str = "status.json";
const USER_STATUS_FILE: &str = "user-status.json";
const USER_STATUS_CACHE: &str = "user-status-cache.json";
const USER_STATUS_PENDING: &str = "user-status-pending.json";
const USER_STATUS_OUT: &str = "user-status.out";
const CLAUDE_REPORT_FILE: &str = "claude-report.json";
/// How long the status command waits for the person's own before printing what it has.
const USER_STATUS_WAIT: Duration = Duration::from_millis(600);
/// A run of the person's status command is stopped after this.
const USER_STATUS_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_PAYLOAD: u64 = 4 * 1024 * 1024;

/// The files the status line reads, in the run directory beside the hook socket.
pub fn view_file(run_dir: &Path) -> PathBuf {
    run_dir.join(VIEW_FILE)
}

pub fn user_status_file(run_dir: &Path) -> PathBuf {
    run_dir.join(USER_STATUS_FILE)
}

/// ccx's part of the status line at `now_ms` (pure).
pub fn status_text(view: &SessionView, colour: bool, now_ms: u64) -> String {
    if let Some(notice) = view.notice.as_ref().filter(|n| n.is_current(now_ms)) {
        // The person's last command's result, alone, while it is fresh.
        let mut line = format!("ccx · {}", notice.text);
        if let Some(problem) = &view.problem {
            line.push_str(&format!(" · ⚠ {problem}"));
        }
        return if colour {
            format!("\x1b[36m{line}\x1b[0m")
        } else {
            line
        };
    }
    let mut parts = vec!["ccx".to_string()];
    if let Some(branch) = &view.branch {
        parts.push(branch.clone());
    }
    if let Some(head) = view.head {
        parts.push(format!("#{head}"));
    }
    let in_rot_zone = view.rot_zone_tokens > 0 && view.context_tokens >= view.rot_zone_tokens;
    if view.context_tokens > 0 {
        let ctx = format!("{} ctx", render::tokens(view.context_tokens));
        parts.push(if in_rot_zone {
            format!("⚠ {ctx} (rot zone)")
        } else {
            ctx
        });
    }
    if let Some(jobs) = &view.jobs {
        parts.push(jobs.clone());
    }
    if let Some(problem) = &view.problem {
        let text = parts.join(" · ");
        let line = format!("{text} · ⚠ {problem}");
        return if colour {
            format!("\x1b[31m{line}\x1b[0m")
        } else {
            line
        };
    }
    let text = parts.join(" · ");
    match (colour, in_rot_zone) {
        (true, true) => format!("\x1b[33m{text}\x1b[0m"),
        (true, false) => format!("\x1b[2m{text}\x1b[0m"),
        (false, _) => text,
    }
}

/// The person's own status line setting, from the settings they gave ccx or Claude's settings
/// files (local project, project, user), in Claude Code's order of precedence.
pub fn find_user_status_line(
    cwd: &Path,
    home: Option<&Path>,
    given: Option<&Value>,
) -> Option<Value> {
    if let Some(line) = given.and_then(|s| s.get("statusLine")) {
        return Some(line.clone());
    }
    let mut files = vec![
        cwd.join(".claude/settings.local.json"),
        cwd.join(".claude/settings.json"),
    ];
    if let Some(home) = home {
        files.push(home.join(".claude/settings.json"));
    }
    files.into_iter().find_map(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        let settings: Value = serde_json::from_str(&text).ok()?;
        settings.get("statusLine").cloned()
    })
}

/// `ccx __status`: prints the status line; always exits 0.
pub fn run() -> i32 {
    let mut payload = Vec::new();
    let _ = std::io::stdin()
        .lock()
        .take(MAX_PAYLOAD)
        .read_to_end(&mut payload);
    // The run directory is the argument (`ccx __status DIR`); older ccx set the environment.
    let Some(run_dir) = std::env::args_os().nth(2).map(PathBuf::from).or_else(|| {
        std::env::var_os(ENV_SOCKET).and_then(|s| PathBuf::from(s).parent().map(Path::to_path_buf))
    }) else {
        return 0;
    };
    let mut view: SessionView = std::fs::read(view_file(&run_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let parsed = serde_json::from_slice::<Value>(&payload).ok();
    // Claude's own figure is exact and current; ccx's lags until the turn is recorded.
    if let Some(tokens) = parsed.as_ref().and_then(current_context) {
        view.context_tokens = tokens;
    }
    if let Some(report) = parsed.as_ref().map(ClaudeReport::from_payload) {
        keep_report(&run_dir, &report);
    }
    if let Some(parsed) = &parsed {
        use crate::unknowns::{note, unknown_fields, Kind, KNOWN_STATUS_LINE_FIELDS};
        note(
            Kind::StatusLineField,
            unknown_fields(parsed, KNOWN_STATUS_LINE_FIELDS),
        );
    }
    let mut line = status_text(&view, std::env::var_os("NO_COLOR").is_none(), now_ms());
    if let Some(theirs) = user_status(&run_dir, &payload) {
        line.push_str("  ");
        line.push_str(&theirs);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    0
}

/// The context size in Claude's status payload: input + cache read + cache creation of the
/// latest API call (`context_window.current_usage`), when present.
pub fn current_context(payload: &Value) -> Option<u64> {
    let usage = payload.get("context_window")?.get("current_usage")?;
    let total = crate::claude::usage::Usage::from_json(usage).context_tokens();
    (total > 0).then_some(total)
}

/// What Claude Code says about the session in its status payload: the model in use and that
/// model's context window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaudeReport {
    pub model: Option<String>,
    pub context_window: Option<u64>,
}

impl ClaudeReport {
    pub fn from_payload(payload: &Value) -> ClaudeReport {
        ClaudeReport {
            model: payload
                .get("model")
                .and_then(|m| m.get("id"))
                .and_then(Value::as_str)
                .map(str::to_string),
            context_window: payload
                .get("context_window")
                .and_then(|c| c.get("context_window_size"))
                .and_then(Value::as_u64)
                .filter(|n| *n > 0),
        }
    }
}

/// The latest report Claude made in this run directory, if any.
pub fn read_report(run_dir: &Path) -> Option<ClaudeReport> {
    serde_json::from_slice(&std::fs::read(run_dir.join(CLAUDE_REPORT_FILE)).ok()?).ok()
}

/// Keeps `report` for ccx when it says something new (written atomically).
fn keep_report(run_dir: &Path, report: &ClaudeReport) {
    if report.context_window.is_none() || read_report(run_dir).as_ref() == Some(report) {
        return;
    }
    if let Ok(text) = serde_json::to_vec(report) {
        write_atomically(&run_dir.join(CLAUDE_REPORT_FILE), &text);
    }
}

/// The person's status line as last run, and for which payload.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CachedUserStatus {
    key: String,
    at_ms: u64,
    line: Option<String>,
}

/// What decides whether the person's status line needs running again: Claude's payload
/// without the figures that change on every run (its running cost and cache timers).
fn user_status_key(payload: &[u8]) -> String {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(mut map)) => {
            map.remove("cost");
            map.remove("prompt_cache");
            Value::Object(map).to_string()
        }
        _ => String::from_utf8_lossy(payload).into_owned(),
    }
}

/// A run of the person's status command that outlived the refresh that started it.
#[derive(Debug, Serialize, Deserialize)]
struct PendingUserStatus {
    key: String,
    pid: u32,
    started_ms: u64,
}

/// The person's own status line: run again when Claude's payload changed or their own
/// `refreshInterval` passed, else the line it printed last. Claude Code stops a status command
/// still running when the next refresh starts (every second), so a slow command of theirs is
/// left running on its own and its line is taken up by a later refresh.
fn user_status(run_dir: &Path, payload: &[u8]) -> Option<String> {
    let setting: Value =
        serde_json::from_slice(&std::fs::read(user_status_file(run_dir)).ok()?).ok()?;
    let command = setting.get("command")?.as_str()?;
    let max_age_ms = setting
        .get("refreshInterval")
        .and_then(Value::as_u64)
        .map(|secs| secs.max(1) * 1000);
    let cache_file = run_dir.join(USER_STATUS_CACHE);
    let pending_file = run_dir.join(USER_STATUS_PENDING);
    let out_file = run_dir.join(USER_STATUS_OUT);
    let key = user_status_key(payload);
    let now = now_ms();
    let mut cached: Option<CachedUserStatus> = std::fs::read(&cache_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let pending: Option<PendingUserStatus> = std::fs::read(&pending_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(pending) = pending {
        if process_alive(pending.pid) {
            if now.saturating_sub(pending.started_ms) < USER_STATUS_TIMEOUT.as_millis() as u64 {
                // Still working: show what there is, start nothing more.
                return cached.and_then(|c| c.line);
            }
            kill_group(pending.pid);
        } else {
            let entry = CachedUserStatus {
                key: pending.key,
                at_ms: pending.started_ms,
                line: read_first_line(&out_file),
            };
            keep_user_status(&cache_file, &entry);
            cached = Some(entry);
        }
        let _ = std::fs::remove_file(&pending_file);
    }
    if let Some(cached) = &cached {
        let fresh = max_age_ms.is_none_or(|max| now.saturating_sub(cached.at_ms) < max);
        if cached.key == key && fresh {
            return cached.line.clone();
        }
    }
    let Some(mut child) = start_user_status(command, payload, &out_file) else {
        return cached.and_then(|c| c.line);
    };
    let deadline = Instant::now() + USER_STATUS_WAIT;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            let entry = CachedUserStatus {
                key,
                at_ms: now,
                line: read_first_line(&out_file),
            };
            keep_user_status(&cache_file, &entry);
            return entry.line;
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Slow: it goes on alone; a later refresh takes its line.
    let pending = PendingUserStatus {
        key,
        pid: child.id(),
        started_ms: now,
    };
    if let Ok(text) = serde_json::to_vec(&pending) {
        write_atomically(&pending_file, &text);
    }
    cached.and_then(|c| c.line)
}

fn keep_user_status(cache_file: &Path, entry: &CachedUserStatus) {
    if let Ok(text) = serde_json::to_vec(entry) {
        write_atomically(cache_file, &text);
    }
}

/// Starts the person's status command with Claude's payload on its input and its output going
/// to `out_file`, in a process group of its own (so it outlives this process if need be).
fn start_user_status(command: &str, payload: &[u8], out_file: &Path) -> Option<Child> {
    use std::os::unix::process::CommandExt;
    let out = std::fs::File::create(out_file).ok()?;
    let mut shell = Command::new("/bin/sh");
    shell
        .args(["-c", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .process_group(0);
    let limit = USER_STATUS_TIMEOUT.as_secs() as libc::c_uint;
    // SAFETY: alarm is async-signal-safe. The timer survives exec: a command that hangs ends
    // even when no later refresh (or no ccx) is left to stop it.
    unsafe {
        shell.pre_exec(move || {
            libc::alarm(limit);
            Ok(())
        });
    }
    let mut child = shell.spawn().ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload);
    }
    Some(child)
}

/// The first line of a file, when it is not blank.
fn read_first_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .next()
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    let mut status = 0;
    // SAFETY: reaps the process only if it is an ended child of this one (WNOHANG: no wait);
    // kill with signal 0 only checks that a process exists.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) != pid && libc::kill(pid, 0) == 0 }
}

fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        if pid > 0 {
            // SAFETY: signals the process group the command was started in; no memory involved.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TurnId;
    use crate::view::Notice;

    #[test]
    fn status_shows_branch_turn_and_context() {
        let view = SessionView {
            branch: Some("main".into()),
            head: Some(TurnId(12)),
            context_tokens: 123_400,
            rot_zone_tokens: 300_000,
            ..Default::default()
        };
        assert_eq!(
            status_text(&view, false, 0),
            "ccx · main · #12 · 123.4k ctx"
        );
        let hot = SessionView {
            context_tokens: 320_000,
            ..view
        };
        assert_eq!(
            status_text(&hot, false, 0),
            "ccx · main · #12 · ⚠ 320k ctx (rot zone)"
        );
        assert!(status_text(&hot, true, 0).starts_with("\x1b[33m"));
        assert_eq!(status_text(&SessionView::default(), false, 0), "ccx");
        let broken = SessionView {
            problem: Some("not recording: locked".into()),
            ..Default::default()
        };
        assert_eq!(
            status_text(&broken, false, 0),
            "ccx · ⚠ not recording: locked"
        );
    }

    #[test]
    fn a_notice_takes_the_footer_until_it_expires() {
        let view = SessionView {
            branch: Some("try-x".into()),
            head: Some(TurnId(4)),
            notice: Some(Notice {
                text: "on branch try-x, forked after #4 of main; main is kept".into(),
                until_ms: 10_000,
            }),
            ..Default::default()
        };
        assert_eq!(
            status_text(&view, false, 9_999),
            "ccx · on branch try-x, forked after #4 of main; main is kept"
        );
        assert!(status_text(&view, true, 9_999).starts_with("\x1b[36m"));
        assert_eq!(status_text(&view, false, 10_000), "ccx · try-x · #4");
        let broken = SessionView {
            problem: Some("not recording: locked".into()),
            ..view.clone()
        };
        assert_eq!(
            status_text(&broken, false, 0),
            "ccx · on branch try-x, forked after #4 of main; main is kept · ⚠ not recording: locked"
        );
    }

    #[test]
    fn claudes_report_of_its_model_and_window_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_report(dir.path()), None);
        let payload = serde_json::json!({"model": {"id": "claude-opus-5-5", "display_name": "Opus"},
            "context_window": {"context_window_size": 1000000, "current_usage": null}});
        let report = ClaudeReport::from_payload(&payload);
        assert_eq!(report.model.as_deref(), Some("claude-opus-5-5"));
        assert_eq!(report.context_window, Some(1_000_000));
        keep_report(dir.path(), &report);
        assert_eq!(read_report(dir.path()), Some(report));
        // A payload without a window changes nothing.
        keep_report(
            dir.path(),
            &ClaudeReport::from_payload(&serde_json::json!({})),
        );
        assert_eq!(
            read_report(dir.path()).unwrap().context_window,
            Some(1_000_000)
        );
    }

    #[test]
    fn the_users_status_line_runs_again_only_when_claudes_payload_changes() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        let command = format!("cat > /dev/null; echo x >> '{}'; echo mine", runs.display());
        std::fs::write(
            user_status_file(dir.path()),
            serde_json::json!({"type": "command", "command": command}).to_string(),
        )
        .unwrap();
        let count = || {
            std::fs::read_to_string(&runs)
                .unwrap_or_default()
                .lines()
                .count()
        };
        let payload = |tokens: u64, cost: f64| {
            serde_json::json!({"session_id": "s", "cost": {"total_cost_usd": cost},
                "context_window": {"total_input_tokens": tokens}})
            .to_string()
        };
        assert_eq!(
            user_status(dir.path(), payload(1, 0.1).as_bytes()).as_deref(),
            Some("mine")
        );
        assert_eq!(count(), 1);
        // The once-a-second refresh with only the running cost changed: the kept line.
        assert_eq!(
            user_status(dir.path(), payload(1, 0.2).as_bytes()).as_deref(),
            Some("mine")
        );
        assert_eq!(count(), 1);
        // A turn changed what Claude reports: run again.
        assert_eq!(
            user_status(dir.path(), payload(2, 0.2).as_bytes()).as_deref(),
            Some("mine")
        );
        assert_eq!(count(), 2);
        // Their own refresh interval is honoured.
        std::fs::write(
            user_status_file(dir.path()),
            serde_json::json!({"type": "command", "command": command, "refreshInterval": 1})
                .to_string(),
        )
        .unwrap();
        let mut cache: CachedUserStatus =
            serde_json::from_slice(&std::fs::read(dir.path().join(USER_STATUS_CACHE)).unwrap())
                .unwrap();
        cache.at_ms -= 5_000;
        std::fs::write(
            dir.path().join(USER_STATUS_CACHE),
            serde_json::to_vec(&cache).unwrap(),
        )
        .unwrap();
        assert_eq!(
            user_status(dir.path(), payload(2, 0.2).as_bytes()).as_deref(),
            Some("mine")
        );
        assert_eq!(count(), 3);
    }

    #[test]
    fn a_slow_status_line_of_the_users_goes_on_alone_and_shows_later() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            user_status_file(dir.path()),
            serde_json::json!({"type": "command", "command": "cat > /dev/null; sleep 1.5; echo slow"})
                .to_string(),
        )
        .unwrap();
        let started = Instant::now();
        assert_eq!(user_status(dir.path(), b"{}"), None);
        assert!(
            started.elapsed() < Duration::from_millis(1400),
            "it did not wait it out"
        );
        // While it runs, refreshes start no second copy and show what there is.
        assert_eq!(user_status(dir.path(), b"{}"), None);
        let shown = (0..100).find_map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            user_status(dir.path(), b"{}")
        });
        assert_eq!(shown.as_deref(), Some("slow"));
    }

    #[test]
    fn context_comes_from_claudes_payload_when_present() {
        let payload = serde_json::json!({"context_window": {"context_window_size": 1000000,
            "current_usage": {"input_tokens": 123156, "output_tokens": 1,
                "cache_creation_input_tokens": 100, "cache_read_input_tokens": 200}}});
        assert_eq!(current_context(&payload), Some(123_456));
        assert_eq!(
            current_context(&serde_json::json!({"context_window": {"current_usage": null}})),
            None
        );
        assert_eq!(current_context(&serde_json::json!({})), None);
    }

    #[test]
    fn the_users_status_line_is_found_in_precedence_order() {
        let dir = tempfile::tempdir().unwrap();
        let (cwd, home) = (dir.path().join("p"), dir.path().join("h"));
        std::fs::create_dir_all(cwd.join(".claude")).unwrap();
        std::fs::create_dir_all(home.join(".claude")).unwrap();
        assert_eq!(find_user_status_line(&cwd, Some(&home), None), None);
        // Each settings file written in turn (user, then project) takes precedence.
        for (dir, command) in [(&home, "user"), (&cwd, "proj")] {
            let settings =
                serde_json::json!({"statusLine": {"type": "command", "command": command}});
            std::fs::write(dir.join(".claude/settings.json"), settings.to_string()).unwrap();
            assert_eq!(
                find_user_status_line(&cwd, Some(&home), None).unwrap()["command"],
                command
            );
        }
        let given = serde_json::json!({"statusLine": {"type": "command", "command": "given"}});
        assert_eq!(
            find_user_status_line(&cwd, Some(&home), Some(&given)).unwrap()["command"],
            "given"
        );
    }
}
